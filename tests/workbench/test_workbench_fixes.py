"""See it wrong, fix it, re-test: fixes go to the knowledge and cases files, and the next message uses them."""

from __future__ import annotations

import csv

import pytest
import yaml

from botkit.errors import ConfigError, KnowledgeError
from botkit.evaluation.cases import load_cases
from botkit.knowledge import load_knowledge
from botkit.types import Decision
from botkit.workbench.columns import read_table
from botkit.workbench.fixes import add_paraphrase, new_entry, save_case
from botkit.workbench.folder import Workshop
from botkit.workbench.session import Session, import_faq
from botkit.workbench.simulator import ChatSimulator

# The fitness studio's bot answers this from the opening-hours entry; the client's answer is the trial session (pt-01).
MISSED = "Kann ich das Studio erst mal testen?"


def test_a_paraphrase_goes_into_the_entrys_file_and_survives_a_new_import(fitness):
    workshop = add_paraphrase(fitness, "pt-01", "  Kann ich   das Studio erst mal testen? ")
    assert MISSED in load_knowledge(workshop.knowledge).by_id()["pt-01"].paraphrases
    assert Workshop.open(workshop.root).added_paraphrases == {"pt-01": (MISSED,)}
    assert add_paraphrase(workshop, "pt-01", MISSED.upper()) == workshop  # already there: nothing changes
    table = read_table(workshop.faq_export())
    reimported, _ = import_faq(workshop, table, workshop.mapping_for(table))
    assert MISSED in load_knowledge(reimported.knowledge).by_id()["pt-01"].paraphrases


def test_a_new_entry_gets_an_id_from_its_question_and_is_validated(fitness):
    entry = new_entry(fitness, "Habt ihr ein Schwimmbad?", "Nein, ein Schwimmbad haben wir nicht.", topic="Studio & Ausstattung")
    assert entry.id == "habt-ihr-ein-schwimmbad" and entry.topic == "studio-ausstattung" and entry.lang == "de"
    assert load_knowledge(fitness.knowledge).by_id()[entry.id].answer.startswith("Nein")
    assert new_entry(fitness, "Habt ihr ein Schwimmbad?", "Nein.").id == "habt-ihr-ein-schwimmbad-2"
    with pytest.raises(KnowledgeError, match="'answer' is empty"):
        new_entry(fitness, "Gibt es Massagen?", "  ")


def test_cases_are_appended_with_the_entry_or_as_out_of_scope(fitness):
    path = save_case(fitness, MISSED, "pt-01")
    save_case(fitness, "Habt ihr ein Schwimmbad?", None)
    with path.open(encoding="utf-8", newline="") as rows:
        assert list(csv.reader(rows)) == [["question", "expected_id", "lang"], [MISSED, "pt-01", "de"], ["Habt ihr ein Schwimmbad?", "", "de"]]
    assert [c.expected_id for c in load_cases(path)] == ["pt-01", None]
    with pytest.raises(ConfigError, match="no entry 'pt-99'"):
        save_case(fitness, MISSED, "pt-99")
    with pytest.raises(ConfigError, match="empty"):
        save_case(fitness, " ", None)


def test_wrong_answer_then_the_right_entry_and_the_same_message_is_answered_from_it(fitness, embedder):
    with Session(fitness, embedder=embedder) as session:
        sim = ChatSimulator(session, channel="whatsapp")
        before = sim.send(MISSED)
        assert before.entries != ("pt-01",)  # the miss this test fixes
        sim.correct("pt-01")
        after = sim.send(MISSED)
        assert after.decision == Decision.ANSWERED and after.entries == ("pt-01",)
        assert [(c.question, c.expected_id) for c in load_cases(fitness.saved_cases)] == [(MISSED, "pt-01")]
        assert "knowledge updated" in sim.chat_html()


def test_a_new_entry_from_the_simulator_answers_the_next_message(fitness, embedder):
    with Session(fitness, embedder=embedder) as session:
        sim = ChatSimulator(session, channel="web")
        question = "Habt ihr ein Schwimmbad im Studio?"
        sim.send(question)
        entry_id = sim.new_entry("Ein Schwimmbad haben wir nicht, aber eine Sauna.")
        assert sim.send(question).entries == (entry_id,)
        sim.save_case(out_of_scope=True)
        assert load_cases(fitness.saved_cases)[-1].expected_id is None


def test_the_fix_buttons_apply_to_the_last_message(fitness, embedder):
    with Session(fitness, embedder=embedder) as session:
        sim = ChatSimulator(session, channel="web")
        sim.show()  # headless: builds the widgets
        panel = sim._view.fix
        panel.wrong.click()
        assert "send a message first" in panel.status.value  # a short message, not a traceback
        sim._view.text.value = MISSED
        panel.entry.value = "pt-01"
        panel.wrong.click()
        assert panel.status.value == "" and sim.send(MISSED).entries == ("pt-01",)
        panel.create.click()  # no answer typed
        assert "answer" in panel.status.value and "is empty" in panel.status.value


def test_fixes_need_a_workshop_session(shared_bot):
    sim = ChatSimulator(shared_bot)
    sim.send("Wie melde ich meinen Zählerstand?")
    with pytest.raises(ConfigError, match="ChatSimulator\\(session\\)"):
        sim.correct("zaehlerstand-melden")


def test_an_entry_in_a_csv_file_is_not_edited(fitness):
    (fitness.knowledge / "extra.csv").write_text(
        "id,question,answer,topic,scope,lang\nextra-1,Gibt es Handtücher?,Ja gegen Gebühr.,studio,service,de\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="extra.csv"):
        add_paraphrase(fitness, "extra-1", "Handtuch leihen")
    assert yaml.safe_load((fitness.root / "workshop.yaml").read_text(encoding="utf-8")).get("added_paraphrases") is None
