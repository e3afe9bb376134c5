"""Mapping a client's FAQ export (CSV, XLSX, YAML) with its own column names onto botkit entries."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from botkit.errors import KnowledgeError
from botkit.knowledge import load_knowledge
from botkit.workbench.columns import IGNORE, ClientTable, apply_mapping, guess_mapping, read_table, split_list, write_knowledge

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "botkit" / "workbench" / "sample" / "client-faq-export.csv"


def test_german_column_names_are_mapped_and_unknown_ones_left_unused():
    mapping = guess_mapping(["Frage", "Weitere Formulierungen", "Antwort", "Kategorie", "Sprache", "Link", "Zielgruppe"])
    assert mapping == {
        "Frage": "question",
        "Weitere Formulierungen": "paraphrases",
        "Antwort": "answer",
        "Kategorie": "topic",
        "Sprache": "lang",
        "Link": "links",
        "Zielgruppe": IGNORE,
    }


def test_english_names_case_and_punctuation_do_not_matter():
    mapping = guess_mapping(["FAQ-ID", "Question", "ANSWER", "Category ", "language", "Quick replies"])
    assert mapping == {
        "FAQ-ID": "id",
        "Question": "question",
        "ANSWER": "answer",
        "Category ": "topic",
        "language": "lang",
        "Quick replies": "quick_replies",
    }


def test_a_longer_partial_match_wins_and_each_field_is_used_once():
    mapping = guess_mapping(["Frage (DE)", "Alternative Fragen", "Frage"])
    # "Frage" is an exact synonym and takes the field; "Alternative Fragen" is about paraphrases.
    assert mapping == {"Frage (DE)": IGNORE, "Alternative Fragen": "paraphrases", "Frage": "question"}


def test_the_sample_export_becomes_entries_with_problems_at_spreadsheet_rows():
    table = read_table(EXPORT)
    mapped = apply_mapping(table, guess_mapping(table.columns))
    assert mapped.rows == 16 and len(mapped.entries) == 14
    assert mapped.ignored == ("Zielgruppe",)
    assert [(p.line, p.field) for p in mapped.problems] == [(12, "answer"), (14, "links")]
    assert all(p.file == "client-faq-export.csv" for p in mapped.problems)
    by_question = {e.question: e for e in mapped.entries}
    meter = by_question["Wie kann ich meinen Zählerstand mitteilen?"]
    assert (meter.topic, meter.lang, meter.scope) == ("zaehler-messung", "de", "service")
    assert meter.paraphrases == ("Zählerstand übermitteln", "Ablesekarte verloren, wie melde ich den Stand?")
    assert by_question["How do I submit my meter reading?"].lang == "en"
    ids = [e.id for e in mapped.entries]
    assert len(set(ids)) == len(ids)
    assert "wann-hat-das-kundencenter-geoeffnet-2" in ids  # the duplicate row gets its own id


def test_defaults_fill_fields_the_export_does_not_have(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("Frage,Antwort\nGibt es Ökostrom?,Ja.\n", encoding="utf-8")
    table = read_table(path)
    [entry] = apply_mapping(table, guess_mapping(table.columns), lang="en", scope="service", topic="tarife").entries
    # the row is recognisably German, so the detected language wins over the default
    assert (entry.id, entry.lang, entry.scope, entry.topic) == ("gibt-es-oekostrom", "de", "service", "tarife")


def test_language_and_scope_words_become_codes(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("Frage;Antwort;Sprache;Art\nA?;a;Englisch;Werbung\nB?;b;DE;Service\n", encoding="utf-8")
    table = read_table(path)
    entries = apply_mapping(table, guess_mapping(table.columns)).entries
    assert [(e.lang, e.scope) for e in entries] == [("en", "marketing"), ("de", "service")]


def test_a_row_with_an_unquoted_delimiter_is_reported_and_skipped(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("Frage;Antwort\nA?;eins; zwei\nB?;b;\nC?;\n", encoding="utf-8")
    table = read_table(path)
    mapped = apply_mapping(table, guess_mapping(table.columns))
    assert [e.question for e in mapped.entries] == ["B?"]  # a trailing empty cell is harmless
    assert [(p.line, p.field) for p in mapped.problems] == [(2, None), (4, "answer")]  # by row
    assert "';' inside" in mapped.problems[0].message


def test_a_windows_1252_export_is_read_with_a_notice(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_bytes("Frage;Antwort\nWie hoch ist die Gebühr?;Zwölf Euro.\n".encode("cp1252"))
    table = read_table(path)
    [entry] = apply_mapping(table, {"Frage": "question", "Antwort": "answer"}).entries
    assert entry.question == "Wie hoch ist die Gebühr?" and entry.answer == "Zwölf Euro."
    [notice] = table.notices
    assert notice.startswith("faq.csv is not UTF-8") and "Windows-1252" in notice


def test_xlsx_rows_are_numbered_as_in_the_spreadsheet(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nr.", "Frage", "Antwort", "Thema"])
    sheet.append([7, "Wie melde ich einen Umzug?", "Online im Kundenportal.", "Vertrag"])
    sheet.append([None, None, None, None])  # an empty row in the middle
    sheet.append([9, "Gibt es einen Sozialtarif?", None, "Vertrag"])
    path = tmp_path / "faq.xlsx"
    book.save(path)
    table = read_table(path)
    assert guess_mapping(table.columns) == {"Nr.": "id", "Frage": "question", "Antwort": "answer", "Thema": "topic"}
    mapped = apply_mapping(table, guess_mapping(table.columns))
    assert [e.id for e in mapped.entries] == ["7"]  # not "7.0"
    assert [(p.line, p.field, p.message) for p in mapped.problems] == [(4, "answer", "is empty")]


def test_a_botkit_yaml_file_maps_onto_itself_and_keeps_its_line_numbers(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text(
        "- id: a\n  question: A?\n  answer: a\n  topic: t\n  scope: service\n  lang: de\n  paraphrases: [Eh, Ah]\n"
        "- id: b\n  question: B?\n  answer: ''\n  topic: t\n  scope: service\n  lang: de\n",
        encoding="utf-8",
    )
    table = read_table(path)
    mapping = guess_mapping(table.columns)
    assert set(mapping.values()) == {"id", "question", "answer", "topic", "scope", "lang", "paraphrases"}
    mapped = apply_mapping(table, mapping)
    assert [e.paraphrases for e in mapped.entries] == [("Eh", "Ah")]
    assert [(p.line, p.field) for p in mapped.problems] == [(8, "answer")]


def test_written_knowledge_loads_back_unchanged(tmp_path):
    table = read_table(EXPORT)
    entries = apply_mapping(table, guess_mapping(table.columns)).entries
    written = write_knowledge(entries, tmp_path / "kb" / "faq.yaml")
    loaded = load_knowledge(written.parent).entries
    assert [e.content_hash() for e in loaded] == [e.content_hash() for e in entries]


def test_an_unknown_field_or_a_field_chosen_twice_is_refused():
    table = read_table(EXPORT)
    with pytest.raises(KnowledgeError, match="unknown field"):
        apply_mapping(table, {"Frage": "frage"})
    with pytest.raises(KnowledgeError, match="'Frage' and 'Weitere Formulierungen' are both mapped to 'question'"):
        apply_mapping(table, {"Frage": "question", "Weitere Formulierungen": "question", "Antwort": "answer"})


def test_missing_and_unsupported_files_say_what_to_do(tmp_path):
    with pytest.raises(KnowledgeError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "faq.docx").write_bytes(b"x")
    with pytest.raises(KnowledgeError, match=r"\.csv, \.xlsx or \.yaml"):
        read_table(tmp_path / "faq.docx")


def test_client_export_yaml_bomb_is_refused_not_expanded(tmp_path):
    """A 426-byte export of nested aliases used to take gigabytes of memory."""
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"  a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 7)]
    path = tmp_path / "export.yaml"
    path.write_text("- Frage: Q\n  " + "\n".join(levels) + "\n  Antwort: *a6\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="anchor or alias") as info:
        read_table(path)
    assert info.value.problems[0].line == 2


def test_client_exports_above_the_size_cap_are_refused(tmp_path):
    csv_path = tmp_path / "export.csv"
    csv_path.write_text("Frage;Antwort\n" + "Wie?;So.\n" * 500, encoding="utf-8")
    with pytest.raises(KnowledgeError, match="more than the limit of 1,000"):
        read_table(csv_path, max_bytes=1_000)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Frage", "Antwort"])
    for _ in range(2_000):
        sheet.append(["Wie melde ich meinen Zählerstand?", "Im Kundenportal unter Zähler." * 5])
    book.save(tmp_path / "export.xlsx")
    size = (tmp_path / "export.xlsx").stat().st_size
    with pytest.raises(KnowledgeError, match="unpacks to"):
        read_table(tmp_path / "export.xlsx", max_bytes=size + 1)  # small on disk, far larger unpacked
    assert len(read_table(tmp_path / "export.xlsx").frame) == 2_000


def test_keyword_cells_split_on_commas_semicolons_bars_and_line_breaks():
    assert split_list("Kündigung, Vertrag kündigen; Abo beenden | austreten\nPause") == ["Kündigung", "Vertrag kündigen", "Abo beenden", "austreten", "Pause"]
    # a phrasing with a comma stays whole: keywords are short and end without sentence punctuation
    assert split_list("Zählerstand übermitteln|Ablesekarte verloren, wie melde ich den Stand?") == [
        "Zählerstand übermitteln",
        "Ablesekarte verloren, wie melde ich den Stand?",
    ]
    assert split_list("  ") == []


def test_client_ids_become_slugs_and_keyword_columns_become_paraphrases():
    mapping = guess_mapping(["FAQ-ID", "Frage", "Schlagwörter", "Antworttext", "Rubrik", "Art", "Mehr erfahren", "Werbetext"])
    assert mapping == {
        "FAQ-ID": "id",
        "Frage": "question",
        "Schlagwörter": "paraphrases",
        "Antworttext": "answer",
        "Rubrik": "topic",
        "Art": "scope",
        "Mehr erfahren": "links",
        "Werbetext": "teaser",
    }
    frame = pd.DataFrame(
        [["MS-01", "Wie kündige ich?", "Kündigung, Abo beenden", "Schriftlich.", "Mitgliedschaft", "Service", "", ""]], columns=list(mapping), dtype=str
    )
    [entry] = apply_mapping(ClientTable("faq.xlsx", frame, (2,)), mapping).entries
    assert entry.id == "ms-01" and entry.paraphrases == ("Kündigung", "Abo beenden") and entry.topic == "mitgliedschaft"


def test_without_a_language_column_each_rows_language_is_detected():
    frame = pd.DataFrame(
        [
            ["Wie kündige ich meine Mitgliedschaft?", "Mit einem Monat Frist zum Ende der Laufzeit, schriftlich an der Theke."],
            ["How do I cancel my membership?", "With one month's notice to the end of the term, in writing at the front desk."],
            ["Sauna?", "Ja."],  # too short to tell: the workshop's language
        ],
        columns=["Frage", "Antwort"],
        dtype=str,
    )
    mapped = apply_mapping(ClientTable("faq.csv", frame, (2, 3, 4)), guess_mapping(["Frage", "Antwort"]), lang="de")
    assert [e.lang for e in mapped.entries] == ["de", "en", "de"]
