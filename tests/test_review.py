"""`botkit review`: served conversations on a real SQLite database, the real USE embedder, real knowledge files."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
import yaml
from typer.testing import CliRunner

from botkit import open_bot
from botkit.cli import app
from botkit.errors import ConfigError, KnowledgeError
from botkit.evaluation.cases import load_cases
from botkit.knowledge import load_knowledge
from botkit.review import Acceptance, few_paraphrases, open_reviewer
from botkit.types import Decision

PIZZA = ("Kann ich bei euch eine Pizza bestellen?", "Liefert ihr auch Pizza?")
PRICE = "Wie teuer ist eine Kilowattstunde?"
SUGGESTED = "Was kostet Strom bei euch?"
CONFIDENT = "Kann ich den Abschlag ändern?"
ASK_PERSON = "Ich möchte mit einem Mitarbeiter sprechen"


@pytest.fixture
def served(kb_copy, settings, embedder, clock):
    """A bot on a writable knowledge copy that served a few conversations; its settings with review on.

    The suggestion band is placed just below SUGGESTED's confidence (so the test does not depend on the
    scorer's scale); the other unsure messages must lie below it."""
    with open_bot(kb_copy, settings, embedder=embedder, clock=clock) as probe:
        band = probe.retriever.retrieve(SUGGESTED).confidence - 0.01
        assert all(probe.retriever.retrieve(text).confidence < band for text in (*PIZZA, PRICE))
    settings = replace(settings, suggest_threshold=band)
    bot = open_bot(kb_copy, settings, embedder=embedder, clock=clock)
    for n, text in enumerate([*PIZZA, PRICE, SUGGESTED, CONFIDENT]):
        bot.reply(f"web:{n}", text)
    bot.reply("web:later", "Wie melde ich meinen Zählerstand?")
    bot.reply("web:later", ASK_PERSON)
    bot.reply("web:hello", "Hallo")  # a greeting before a request for a person is no knowledge gap
    bot.reply("web:hello", ASK_PERSON)
    bot.close()
    return replace(settings, review_conversations=True)


@pytest.fixture
def reviewer(served, kb_copy, embedder):
    with open_reviewer(kb_copy, served, embedder=embedder) as reviewer:
        yield reviewer


def _by_text(found):
    return {m.text: (m, group) for group in found.groups for m in group.messages}


def test_review_is_off_unless_switched_on(kb_copy, settings, embedder):
    with pytest.raises(ConfigError, match="BOTKIT_REVIEW_CONVERSATIONS"):
        open_reviewer(kb_copy, settings, embedder=embedder)


def test_unsure_messages_are_listed_grouped_with_their_nearest_entries(reviewer):
    found = _by_text(reviewer.pending())
    assert found[PIZZA[0]][0].why == found[PIZZA[1]][0].why == "low_confidence"
    assert found[PIZZA[0]][1] is found[PIZZA[1]][1]  # one group: they mean the same
    assert found[PRICE][1] is not found[PIZZA[0]][1]
    assert found[SUGGESTED][0].why == "suggested" and len(found[SUGGESTED][0].entries) >= 2
    # answered, then the user asked for a person: the answer probably missed
    assert found["Wie melde ich meinen Zählerstand?"][0].why == "handed_over"
    assert CONFIDENT not in found and ASK_PERSON not in found and "Hallo" not in found
    nearest = found[PRICE][1].nearest
    assert 1 <= len(nearest) <= 3 and all(0 <= e.score <= 1 and e.phrasings >= 1 for e in nearest)
    assert CONFIDENT in _by_text(reviewer.pending(include_answered=True))


def test_a_paraphrase_is_written_to_the_entry_and_the_cases_and_the_bot_then_answers_it(reviewer, served, kb_copy, embedder, clock):
    message = _by_text(reviewer.pending())[PRICE][0]
    said = reviewer.accept(message.id, Acceptance.parse("paraphrase:preisaenderung"))
    assert "paraphrase of preisaenderung" in said
    assert PRICE in load_knowledge(kb_copy).by_id()["preisaenderung"].paraphrases
    cases = load_cases(reviewer.cases)
    assert [(c.question, c.expected_id) for c in cases] == [(PRICE, "preisaenderung")]
    assert PRICE not in _by_text(reviewer.pending())  # reviewed: not listed again
    bot = open_bot(kb_copy, served, embedder=embedder, clock=clock)
    reply = bot.reply("web:new", PRICE)
    bot.close()
    assert (reply.decision, reply.entries) == (Decision.ANSWERED, ("preisaenderung",))


def test_a_new_entry_needs_an_answer_and_goes_to_new_entries(reviewer, kb_copy):
    message = _by_text(reviewer.pending())[PIZZA[0]][0]
    with pytest.raises(ConfigError, match="--answer"):
        reviewer.accept(message.id, Acceptance.parse("new:pizza"))
    with pytest.raises(ConfigError, match="already"):
        reviewer.accept(message.id, Acceptance.parse("new:preisaenderung"), answer="Nein.")
    reviewer.accept(message.id, Acceptance.parse("new:pizza"), answer="Nein, wir liefern Strom und Gas.", topic="sonstiges")
    entry = load_knowledge(kb_copy).by_id()["pizza"]
    assert (entry.question, entry.topic, entry.lang) == (PIZZA[0], "sonstiges", "de")
    assert entry.source.startswith(str(kb_copy / "new-entries.yaml"))
    assert [c.expected_id for c in load_cases(reviewer.cases)] == ["pizza"]


def test_out_of_scope_is_a_case_for_a_person_and_nothing_in_the_knowledge(reviewer, kb_copy):
    before = load_knowledge(kb_copy).entries
    message = _by_text(reviewer.pending())[PIZZA[1]][0]
    reviewer.accept(message.id, Acceptance.parse("out-of-scope"), text="  ")
    other = _by_text(reviewer.pending())[PIZZA[0]][0]
    reviewer.accept(other.id, Acceptance.parse("out-of-scope"), text="Kann ich eine Pizza bestellen?")  # edited before writing
    assert load_knowledge(kb_copy).entries == before
    with reviewer.cases.open(encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["question", "expected_id", "lang"], [PIZZA[1], "", "de"], ["Kann ich eine Pizza bestellen?", "", "de"]]


def test_a_wrong_answer_flag_lists_a_confident_answer(reviewer):
    message = _by_text(reviewer.pending(include_answered=True))[CONFIDENT][0]
    reviewer.flag_wrong(message.id)
    assert _by_text(reviewer.pending())[CONFIDENT][0].why == "wrong_answer"


def test_unknown_messages_and_acceptances_are_refused(reviewer):
    with pytest.raises(ConfigError, match="no user message 99999"):
        reviewer.flag_wrong(99999)
    for bad in ("paraphrase", "paraphrase:", "new", "maybe", "out-of-scope:x"):
        with pytest.raises(ConfigError, match="paraphrase:ENTRY_ID"):
            Acceptance.parse(bad)
    message = _by_text(reviewer.pending())[PRICE][0]
    with pytest.raises(ConfigError, match="no entry 'nope'"):
        reviewer.accept(message.id, Acceptance.parse("paraphrase:nope"))


def test_lint_warns_on_entries_with_fewer_than_two_paraphrases(tmp_path):
    (tmp_path / "faq.yaml").write_text(
        "- id: kurz\n  question: Frage?\n  answer: Antwort.\n  topic: t\n  scope: service\n  lang: de\n  paraphrases: [Nur eine]\n"
        "- id: gut\n  question: Noch eine Frage?\n  answer: Antwort.\n  topic: t\n  scope: service\n  lang: de\n  paraphrases: [Eins, Zwei]\n",
        encoding="utf-8",
    )
    assert [(f.entry_id, f.measured, f.hard) for f in few_paraphrases(load_knowledge(tmp_path).entries)] == [("kurz", 1, False)]
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--channel", "web", "--json"])
    assert result.exit_code == 0, result.output  # a warning, not an error
    assert [f["entry_id"] for f in json.loads(result.stdout) if f["rule"] == "paraphrases"] == ["kurz"]


def test_the_cli_lists_accepts_and_offers_llm_paraphrases(served, kb_copy):
    env = {"BOTKIT_DATABASE_URL": served.database_url, "COLUMNS": "200"}
    base = ["review", str(kb_copy), "--index-dir", str(served.index_dir)]
    off = CliRunner().invoke(app, base, env=env)
    assert off.exit_code != 0 and "BOTKIT_REVIEW_CONVERSATIONS" in str(off.exception)
    env["BOTKIT_REVIEW_CONVERSATIONS"] = "1"
    listed = CliRunner().invoke(app, base, env=env)
    assert listed.exit_code == 0, listed.output
    assert PRICE in listed.stdout and "nearest:" in listed.stdout and "--accept MESSAGE_ID" in listed.stdout
    found = json.loads(CliRunner().invoke(app, [*base, "--json"], env={**env, "BOTKIT_LLM_BASE_URL": "http://127.0.0.1:9/v1"}).stdout)
    price = next(m for g in found["groups"] for m in g["messages"] if m["text"] == PRICE)
    assert found["llm_paraphrases"] == [f"botkit llm paraphrases {kb_copy} --entry {e['entry_id']}" for e in found["thin_entries"]]
    accepted = CliRunner().invoke(app, [*base, "--accept", str(price["id"]), "--as", "out-of-scope"], env=env)
    assert accepted.exit_code == 0, accepted.output
    assert "labelled case appended" in accepted.stdout
    lonely = CliRunner().invoke(app, [*base, "--accept", str(price["id"])], env=env)
    assert lonely.exit_code != 0 and "go together" in str(lonely.exception)


def test_a_new_entry_with_a_bad_field_is_refused_and_nothing_is_written(reviewer, kb_copy):
    message = _by_text(reviewer.pending())[PIZZA[0]][0]
    with pytest.raises(KnowledgeError):
        reviewer.accept(message.id, Acceptance.parse("new:pizza"), answer="Nein.", topic="")
    assert not (kb_copy / "new-entries.yaml").exists() and not reviewer.cases.exists()
    assert yaml.safe_load((kb_copy / "zaehler.yaml").read_text(encoding="utf-8"))
