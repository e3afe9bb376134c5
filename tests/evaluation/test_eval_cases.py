"""Reading test cases and conversation scripts: every problem named with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from botkit import EvaluationDataError, KnowledgeError, load_knowledge
from botkit.evaluation.cases import (
    Case,
    check_references,
    is_conversation_file,
    load_cases,
    load_conversations,
)
from tests.conftest import ROOT, SAMPLE

DATA = ROOT / "evaluations" / "data"


def problems(exc: pytest.ExceptionInfo[EvaluationDataError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_committed_test_data_loads_and_names_only_known_entries():
    cases = load_cases(DATA / "cases.csv")
    tuning = load_cases(DATA / "tune-cases.csv")
    scripts = load_conversations(DATA / "conversations.yaml")
    assert len(cases) > 50 and len(tuning) > 50
    assert any(c.expected_id is None for c in cases) and any(c.expected_id for c in cases)
    check_references(load_knowledge(SAMPLE), [*cases, *tuning, *scripts])
    assert {q.question for q in cases}.isdisjoint({q.question for q in tuning}), "tune and evaluate on different cases"


def test_csv_cases_keep_their_line_and_treat_empty_expected_id_as_handover(tmp_path):
    path = write(tmp_path, "c.csv", 'question,expected_id,lang\n"Zählerstand, wo?",zaehlerstand-melden,de\n\nWetter?,,de\n')
    assert load_cases(path) == [
        Case("Zählerstand, wo?", "zaehlerstand-melden", "de", "c.csv:2"),
        Case("Wetter?", None, "de", "c.csv:4"),
    ]


def test_semicolon_csv_from_excel_is_read(tmp_path):
    path = write(tmp_path, "c.csv", "question;expected_id;lang\nWo ist das Kundencenter?;kundencenter-adresse;de\n")
    assert load_cases(path)[0].expected_id == "kundencenter-adresse"


def test_csv_problems_name_line_and_field_all_at_once(tmp_path):
    path = write(tmp_path, "bad.csv", "question,expected_id,lang\n,x,de\nFrage?,x,deutsch\nA,b,c,d\n")
    with pytest.raises(EvaluationDataError) as exc:
        load_cases(path)
    assert problems(exc) == [
        "bad.csv:2: 'question' is empty",
        "bad.csv:3: 'lang' 'deutsch' is not an ISO language code such as 'de' or 'en'",
        "bad.csv:4: has 4 cells, the header 3; quote cells with commas",
    ]
    assert isinstance(exc.value, KnowledgeError) and "nothing was evaluated" in str(exc.value)


def test_csv_with_a_wrong_header_is_refused_on_line_1(tmp_path):
    with pytest.raises(EvaluationDataError) as exc:
        load_cases(write(tmp_path, "bad.csv", "frage,id,lang\nA,b,de\n"))
    assert problems(exc) == ["bad.csv:1: header must be question,expected_id,lang (wrong or missing: expected_id, frage, id, question)"]


def test_yaml_cases_as_a_list_or_under_cases(tmp_path):
    listed = write(tmp_path, "a.yaml", '- {question: "Wo?", expected_id: kundencenter-adresse, lang: de}\n')
    nested = write(tmp_path, "b.yaml", "cases:\n  - question: Wetter?\n    lang: de\n")
    assert load_cases(listed)[0].source == "a.yaml:1"
    assert load_cases(nested) == [Case("Wetter?", None, "de", "b.yaml:2")]


def test_yaml_case_with_unknown_field_and_wrong_type_is_refused(tmp_path):
    path = write(tmp_path, "bad.yaml", "- question: Wo?\n  lang: de\n  expected: x\n- question: [a, b]\n  lang: de\n")
    with pytest.raises(EvaluationDataError) as exc:
        load_cases(path)
    assert problems(exc) == [
        "bad.yaml:3: 'expected' is not a known field (known: question, expected_id, lang)",
        "bad.yaml:4: 'question' must be text",
    ]


def test_a_windows_1252_case_file_is_read(tmp_path):
    (tmp_path / "cases.csv").write_bytes("question,expected_id,lang\nZählerstand?,x,de\n".encode("cp1252"))
    assert load_cases(tmp_path / "cases.csv") == [Case("Zählerstand?", "x", "de", "cases.csv:2")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"question,expected_id,lang\nZ\x81hler,x,de\n", "bad.csv:2: is neither UTF-8 nor Windows-1252 text; save it as 'CSV UTF-8' or UTF-8 text"),
        (b"question,expected_id,lang\n", "bad.csv: holds no cases"),
    ],
)
def test_unreadable_or_empty_case_files_are_refused(tmp_path, content, expected):
    (tmp_path / "bad.csv").write_bytes(content)
    with pytest.raises(EvaluationDataError) as exc:
        load_cases(tmp_path / "bad.csv")
    assert problems(exc) == [expected]


SCRIPT = """\
conversations:
  - name: opt-in
    channel: whatsapp
    consents: [newsletter]
    turns:
      - user: "Hallo"
        expect: {disclosure: true}
      - campaign: {topic: newsletter, text: "Neu"}
        expect: {delivered: true, consent: {newsletter: granted}}
"""


def test_conversation_scripts_parse_with_their_turns_and_expectations(tmp_path):
    path = write(tmp_path, "conv.yaml", SCRIPT)
    (script,) = load_conversations(path)
    assert (script.name, script.channel, script.consents, script.source) == ("opt-in", "whatsapp", ("newsletter",), "conv.yaml:2")
    hello, campaign = script.turns
    assert hello.user == "Hallo" and hello.expect == {"disclosure": True} and hello.source == "conv.yaml:6"
    assert campaign.user is None and campaign.campaign.topic == "newsletter"
    assert campaign.expect == {"delivered": True, "consent": {"newsletter": "granted"}}
    assert is_conversation_file(path) and not is_conversation_file(DATA / "cases.csv")


def test_unknown_expectation_keys_are_errors_not_ignored(tmp_path):
    path = write(tmp_path, "conv.yaml", SCRIPT.replace("{disclosure: true}", "{disclosure: true, entri: gasgeruch}"))
    with pytest.raises(EvaluationDataError) as exc:
        load_conversations(path)
    assert problems(exc) == [
        "conv.yaml:7: 'entri' is not a known expectation (known: disclosure, entry, handover, clarify, no_marketing, consent, delivered, waiting, with_person)"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("channel: whatsapp", "channel: fax"), "conv.yaml:3: 'channel' 'fax' is not a channel; use one of whatsapp, messenger, telegram, sms, web"),
        (("{disclosure: true}", "{disclosure: yes please}"), "conv.yaml:7: 'disclosure' must be true or false, not 'yes please'"),
        (("{disclosure: true}", "{entry: gasgeruch, delivered: true}"), "conv.yaml:7: 'delivered' cannot be checked on a user turn"),
        (("{delivered: true, ", "{entry: gasgeruch, "), "conv.yaml:9: 'entry' cannot be checked on a campaign step"),
        (("granted}}", "maybe}}"), "conv.yaml:9: 'consent' must map topics to granted or withdrawn, e.g. {newsletter: granted}"),
        (("{disclosure: true}", "{no_marketing: false}"), "conv.yaml:7: 'no_marketing' can only be true (nothing may expect promotion without consent)"),
        (
            ('- user: "Hallo"', '- user: "Hallo"\n        campaign: {topic: newsletter, text: x}'),
            "conv.yaml:6: needs exactly one of 'user' (a message), 'campaign', 'person' (take, release or a text) or 'wait' (e.g. 45m)",
        ),
        (('text: "Neu"}', 'text: ""}'), "conv.yaml:8: 'campaign' must be {topic: TOPIC, text: \"...\"}, both non-empty texts"),
        (
            ("    consents: [newsletter]", "    consents: [newsletter]\n    tags: [x]"),
            "conv.yaml:5: 'tags' is not a known key (known: name, channel, consents, turns)",
        ),
        (("    turns:", "    turns: []\n    old:"), "conv.yaml:5: 'turns' must be a non-empty list of turns ('- user: ...' or '- campaign: ...')"),
    ],
)
def test_script_problems_name_line_and_field(tmp_path, change, expected):
    path = write(tmp_path, "conv.yaml", SCRIPT.replace(*change))
    with pytest.raises(EvaluationDataError) as exc:
        load_conversations(path)
    assert expected in problems(exc)


def test_invalid_yaml_reports_its_line(tmp_path):
    path = write(tmp_path, "conv.yaml", "conversations:\n  - name: x\n   channel: web\n")
    with pytest.raises(EvaluationDataError) as exc:
        load_conversations(path)
    assert problems(exc)[0].startswith("conv.yaml:3: is not valid YAML")


def test_references_to_unknown_entries_and_topics_are_refused(tmp_path):
    script = SCRIPT.replace("consents: [newsletter]", "consents: [werbung]").replace("{disclosure: true}", "{entry: gasleck}")
    scripts = load_conversations(write(tmp_path, "conv.yaml", script))
    cases = load_cases(write(tmp_path, "c.csv", "question,expected_id,lang\nGas?,gas-leck,de\n"))
    with pytest.raises(EvaluationDataError) as exc:
        check_references(load_knowledge(SAMPLE), [*cases, *scripts])
    found = problems(exc)
    assert found[0] == "c.csv:2: 'expected_id' 'gas-leck' is not a known entry id (check it against the 52 in the knowledge base)"
    assert found[1].startswith("conv.yaml:2: 'consents' 'werbung' is not a known consent topic (known: angebote-emobilitaet")
    assert found[2].startswith("conv.yaml:6: 'entry' 'gasleck' is not a known entry id")
