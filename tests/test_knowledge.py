"""Loading and validating knowledge bases: every problem, with file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from botkit import KnowledgeError, load_knowledge
from botkit.errors import Problem
from botkit.knowledge import knowledge_files
from tests.conftest import SAMPLE

GOOD = """\
- id: zaehlerstand-melden
  question: Wie melde ich meinen Zählerstand?
  paraphrases: [Zählerstand durchgeben]
  answer: Im Kundenportal.
  topic: zaehler
  scope: service
  lang: de
"""


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(path)
    return info.value.problems


def test_sample_knowledge_base_is_realistic():
    kb = load_knowledge(SAMPLE)
    assert len(kb.entries) >= 40
    assert len({e.topic for e in kb.entries}) >= 6
    assert {"de", "en"} <= set(kb.languages)
    assert sum(e.lang == "de" for e in kb.entries) > sum(e.lang == "en" for e in kb.entries)
    assert any(e.scope == "marketing" for e in kb.entries)
    assert all(".example" in link for e in kb.entries for link in e.links)
    assert any(e.source.endswith(".csv:2") for e in kb.entries)


def test_yaml_entry_fields_are_read(tmp_path):
    (tmp_path / "faq.yaml").write_text(GOOD, encoding="utf-8")
    (entry,) = load_knowledge(tmp_path / "faq.yaml").entries
    assert entry.id == "zaehlerstand-melden"
    assert entry.paraphrases == ("Zählerstand durchgeben",)
    assert entry.source.endswith("faq.yaml:1")


def test_missing_answer_is_reported_with_line(tmp_path):
    (tmp_path / "faq.yaml").write_text(GOOD + GOOD.replace("zaehlerstand-melden", "zwei").replace("  answer: Im Kundenportal.\n", ""))
    (problem,) = problems_of(tmp_path)
    assert (problem.line, problem.field, problem.message) == (8, "answer", "is missing")
    assert problem.file.endswith("faq.yaml")


def test_empty_question_and_unknown_scope_point_at_their_lines(tmp_path):
    text = GOOD.replace("question: Wie melde ich meinen Zählerstand?", 'question: ""').replace("scope: service", "scope: werbung")
    (tmp_path / "faq.yaml").write_text(text)
    found = {(p.line, p.field) for p in problems_of(tmp_path)}
    assert found == {(2, "question"), (6, "scope")}


def test_duplicate_id_across_files_names_both_places(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    (problem,) = problems_of(tmp_path)
    assert problem.file.endswith("b.yaml") and problem.field == "id"
    assert "a.yaml:1" in problem.message


def test_every_problem_is_reported_at_once(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD.replace("lang: de", "lang: deutsch") + "- id: Bad Id\n  question: x\n")
    (tmp_path / "b.csv").write_bytes("id,question,answer,topic,scope,lang\nx,,y,t,service,de\n".encode())
    (tmp_path / "c.yaml").write_bytes(b"- id: x\n  question: \x81\n")
    problems = problems_of(tmp_path)
    where = {(Path(p.file).name, p.field) for p in problems}
    assert ("a.yaml", "lang") in where and ("a.yaml", "id") in where and ("a.yaml", "answer") in where
    assert ("b.csv", "question") in where
    assert any(Path(p.file).name == "c.yaml" and "neither UTF-8 nor Windows-1252" in p.message for p in problems)
    assert str(len(problems)) in str(KnowledgeError(problems))


def test_unreadable_encoding_names_file_and_line(tmp_path):
    (tmp_path / "faq.csv").write_bytes(b"id,question,answer,topic,scope,lang\nx,Gr\x81\x8de,y,t,service,de\n")
    (problem,) = problems_of(tmp_path)
    assert problem.line == 2 and "neither UTF-8 nor Windows-1252" in problem.message


def test_a_windows_1252_file_loads_with_a_notice(tmp_path):
    (tmp_path / "faq.csv").write_bytes("id,question,answer,topic,scope,lang\nx,Größe?,Zwölf.,t,service,de\n".encode("cp1252"))
    kb = load_knowledge(tmp_path)
    assert kb.entries[0].question == "Größe?" and kb.entries[0].answer == "Zwölf."
    (notice,) = kb.notices
    assert "faq.csv" in notice and "Windows-1252" in notice


def test_csv_as_excel_writes_it_semicolons_and_bom(tmp_path):
    text = '\ufeffid;question;answer;topic;scope;lang;paraphrases;notes\na;Frage?;"Antwort; mit Semikolon";t;service;de;eins | zwei;ignored\n'
    (tmp_path / "faq.csv").write_text(text, encoding="utf-8")
    (entry,) = load_knowledge(tmp_path).entries
    assert entry.answer == "Antwort; mit Semikolon"
    assert entry.paraphrases == ("eins", "zwei")


def test_csv_row_numbers_count_multiline_cells(tmp_path):
    text = 'id,question,answer,topic,scope,lang\na,F?,"zwei\nZeilen",t,service,de\nb,,x,t,service,de\n'
    (tmp_path / "faq.csv").write_text(text)
    (problem,) = problems_of(tmp_path)
    assert (problem.line, problem.field) == (4, "question")


def test_csv_without_required_column_says_which(tmp_path):
    (tmp_path / "faq.csv").write_text("id,question,topic,scope,lang\na,b,c,service,de\n")
    (problem,) = problems_of(tmp_path)
    assert problem.line == 1 and "answer" in problem.message


def test_unknown_field_is_an_error_not_ignored(tmp_path):
    (tmp_path / "faq.yaml").write_text(GOOD + "  anwser: typo\n")
    (problem,) = problems_of(tmp_path)
    assert problem.field == "anwser" and problem.line == 8


def test_teaser_only_on_marketing_entries(tmp_path):
    (tmp_path / "faq.yaml").write_text(GOOD + "  teaser: Jetzt 10 % sparen!\n")
    (problem,) = problems_of(tmp_path)
    assert problem.field == "teaser"


def test_invalid_yaml_reports_the_line(tmp_path):
    (tmp_path / "faq.yaml").write_text(GOOD + "  answer: [unclosed\n")
    (problem,) = problems_of(tmp_path)
    assert problem.line is not None and "YAML" in problem.message


def test_knowledge_loader_does_not_read_yaml_linked_from_outside_the_folder(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "faq.yaml").write_text("- id: a\n  question: Q?\n  answer: A.\n  topic: t\n  scope: service\n  lang: de\n", encoding="utf-8")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("- id: secret\n  question: S?\n  answer: S.\n  topic: t\n  scope: service\n  lang: de\n", encoding="utf-8")
    (folder / "linked.yaml").symlink_to(outside)
    assert [p.name for p in knowledge_files(folder)] == ["faq.yaml"]
    with pytest.raises(KnowledgeError, match="outside the knowledge folder"):
        load_knowledge(folder)


def _laughs(levels: int) -> str:
    """A "billion laughs" entry: each level an anchored list of nine aliases of the one before."""
    lines = [
        "- id: bomb",
        "  question: Q?",
        "  scope: service",
        "  lang: de",
        "  topic: t",
        '  paraphrases: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for level in range(1, levels + 1):
        lines.append(f"  p{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines.append(f"  answer: *l{levels}")
    return "\n".join(lines) + "\n"


def test_yaml_bomb_in_a_knowledge_file_is_refused_with_file_and_line(tmp_path):
    import time

    (tmp_path / "faq.yaml").write_text(_laughs(6), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(tmp_path)
    assert time.monotonic() - started < 2
    problem = info.value.problems[0]
    assert problem.file.endswith("faq.yaml") and problem.line == 6 and "anchor or alias" in problem.message


def test_recursive_alias_and_deep_nesting_are_problems_not_crashes(tmp_path):
    (tmp_path / "a.yaml").write_text("- &a [*a]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- id: x\n  question: " + "[" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(tmp_path)
    messages = {Path(p.file).name: p.message for p in info.value.problems}
    assert "anchor or alias" in messages["a.yaml"] and "nests too deep" in messages["b.yaml"]


def test_alias_in_botkit_yaml_is_refused(tmp_path):
    shutil.copy(SAMPLE / "service.yaml", tmp_path / "faq.yaml")
    (tmp_path / "botkit.yaml").write_text("client:\n  name: &n Stadtwerke\n  bot_name: *n\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(tmp_path)
    assert [(Path(p.file).name, p.line) for p in info.value.problems] == [("botkit.yaml", 2)]


def test_oversized_knowledge_file_is_refused_before_reading(tmp_path):
    from botkit import Settings
    from botkit.wiring import build

    shutil.copy(SAMPLE / "service.yaml", tmp_path / "faq.yaml")
    with pytest.raises(KnowledgeError, match="more than the limit of 1,000.*BOTKIT_MAX_FILE_BYTES"):
        load_knowledge(tmp_path, max_bytes=1_000)
    with pytest.raises(KnowledgeError, match="more than the limit of 2,000"):
        build(tmp_path, Settings(index_dir=tmp_path / "idx", max_file_bytes=2_000))


def test_a_marketing_entry_whose_topic_is_no_consent_topic_is_an_error_with_file_and_line(kb_copy):
    (kb_copy / "offers.yaml").write_text(
        "- id: sommer-rabatt\n  question: Gibt es einen Sommerrabatt?\n  answer: Ja, im Juli.\n  topic: sommeraktion\n  scope: marketing\n  lang: de\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    (problem,) = info.value.problems
    assert problem.file.endswith("offers.yaml") and problem.line == 1 and problem.field == "topic"
    assert "sommeraktion" in problem.message and "angebote-solar" in problem.message
