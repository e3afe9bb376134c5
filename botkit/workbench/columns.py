"""Bring a client's FAQ export (CSV, XLSX or YAML) into botkit's fields.

Clients export their FAQ from a CMS or a spreadsheet with their own column names
("Frage", "Antwort", "Kategorie", ...). `guess_mapping` proposes which column holds which
botkit field, the consultant corrects it, and `apply_mapping` turns the rows into
validated `FaqEntry`s, with every problem reported at the row of the spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import yaml

from botkit.errors import KnowledgeError, Problem
from botkit.knowledge import LISTS, OPTIONAL, REQUIRED, RawRecord, validate_records
from botkit.language import LanguageDetector
from botkit.strict_yaml import MAX_FILE_BYTES, compose_yaml, read_capped
from botkit.tabular import SPREADSHEET_DELIMITERS, sniff_delimiter
from botkit.textfile import read_text_file
from botkit.types import FaqEntry
from botkit.workbench.text import normalize_name, slugify, unique_id

FIELDS: tuple[str, ...] = (*REQUIRED, *OPTIONAL)
IGNORE = ""  # the mapping target of a column botkit does not use

# Normalised column names (see `normalize_name`) per field, German and English.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "nr", "nummer", "kennung", "schluessel", "key", "faqid", "eintrag", "entry"),
    "question": ("frage", "fragen", "question", "kundenfrage", "anliegen", "titel", "title", "faq"),
    "answer": ("antwort", "antworten", "answer", "antworttext", "loesung", "response", "text"),
    "topic": ("kategorie", "thema", "themenbereich", "bereich", "rubrik", "topic", "category", "section"),
    "scope": ("scope", "zweck", "art", "typ", "type", "kind"),
    "lang": ("sprache", "lang", "language", "locale", "sprachcode"),
    "paraphrases": (
        "paraphrasen",
        "paraphrases",
        "weitereformulierungen",
        "alternativefragen",
        "formulierungen",
        "varianten",
        "synonyme",
        "umschreibungen",
        "variants",
        "alternativequestions",
        "otherphrasings",
        "schlagwoerter",
        "schlagworte",
        "stichwoerter",
        "stichworte",
        "suchbegriffe",
        "keywords",
        "tags",
    ),
    "links": ("link", "links", "url", "urls", "weblink", "mehrinfos", "mehrerfahren", "weiterlesen", "quelle", "source", "moreinfo"),
    "quick_replies": ("buttons", "schnellantworten", "quickreplies", "antwortknoepfe", "vorschlaege", "suggestions"),
    "teaser": ("teaser", "werbetext", "angebotstext", "promotion"),
}
LANGUAGES: dict[str, str] = {
    "deutsch": "de",
    "german": "de",
    "ger": "de",
    "deu": "de",
    "de": "de",
    "englisch": "en",
    "english": "en",
    "eng": "en",
    "en": "en",
    "franzoesisch": "fr",
    "french": "fr",
    "fr": "fr",
    "tuerkisch": "tr",
    "turkish": "tr",
    "tr": "tr",
}
SCOPES: dict[str, str] = {
    "service": "service",
    "kundenservice": "service",
    "info": "service",
    "information": "service",
    "marketing": "marketing",
    "werbung": "marketing",
    "angebot": "marketing",
    "vertrieb": "marketing",
}
_LIST_SPLIT = re.compile(r"\s*(?:\||\r?\n)\s*")
_KEYWORD_SPLIT = re.compile(r"\s*[,;]\s*")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class ClientTable:
    """A client's export as text cells, with the row number each record starts at.

    `rows[i]` is the spreadsheet row (XLSX) or file line (CSV, YAML) of `frame.iloc[i]`,
    so problems point where the client can find them.
    """

    name: str
    frame: pd.DataFrame
    rows: tuple[int, ...]
    problems: tuple[Problem, ...] = ()  # records that could not be read into the columns
    notices: tuple[str, ...] = ()  # e.g. read as Windows-1252 rather than UTF-8

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


@dataclass(frozen=True)
class MappedKnowledge:
    """The entries that passed validation and the problems of those that did not."""

    entries: tuple[FaqEntry, ...]
    problems: tuple[Problem, ...]
    ignored: tuple[str, ...]  # client columns that were not mapped
    rows: int  # non-empty records read

    def problem_rows(self) -> list[dict[str, Any]]:
        """The problems as table rows: row, field, message."""
        return [{"row": p.line, "field": p.field or "", "problem": p.message} for p in self.problems]


def read_table(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> ClientTable:
    """Read a CSV (`;`, `,` or tab separated, UTF-8 or Windows-1252), an XLSX sheet or a YAML list.

    Args:
        max_bytes: a larger file (or an XLSX unpacking to 20 times more) is refused with `KnowledgeError`.
    """
    path = Path(path)
    if not path.exists():
        raise KnowledgeError([Problem(str(path), None, None, "does not exist; export the FAQ as CSV, XLSX or YAML")])
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, max_bytes)
    if suffix in {".yaml", ".yml"}:
        return _read_yaml(path, max_bytes)
    if suffix in {".csv", ".txt", ".tsv"}:
        try:
            return _read_csv(path, max_bytes)
        except csv.Error as exc:
            raise KnowledgeError([Problem(path.name, None, None, f"is not readable CSV ({exc})")]) from exc
    raise KnowledgeError([Problem(path.name, None, None, f"has the unknown type {suffix!r}; use .csv, .xlsx or .yaml")])


def guess_mapping(columns: Sequence[str]) -> dict[str, str]:
    """Propose a botkit field for every column (`IGNORE` for none); each field is used once.

    Exact synonyms win over partial ones, and a longer partial match over a shorter one,
    so "Alternative Fragen" becomes paraphrases although it contains "Frage".
    """
    scored: list[tuple[int, int, int, str]] = []  # (rank, -length, column position, field)
    for position, column in enumerate(columns):
        name = normalize_name(column)
        for field, names in SYNONYMS.items():
            for synonym in names:
                if name == synonym:
                    scored.append((0, -len(synonym), position, field))
                elif len(synonym) >= 4 and synonym in name:
                    scored.append((1, -len(synonym), position, field))
    mapping = {column: IGNORE for column in columns}
    taken: set[str] = set()
    for _, _, position, field in sorted(scored):
        column = columns[position]
        if mapping[column] == IGNORE and field not in taken:
            mapping[column] = field
            taken.add(field)
    return mapping


def apply_mapping(
    table: ClientTable,
    mapping: Mapping[str, str],
    *,
    lang: str = "de",
    scope: str = "service",
    topic: str = "allgemein",
) -> MappedKnowledge:
    """Turn the rows into validated entries; `lang`, `scope` and `topic` fill unmapped fields.

    Language names ("Deutsch", "English") become codes; without a language column each row's
    language is detected from its question and answer (German or English, else `lang`).
    Categories become slugs ("Zähler & Messung" -> "zaehler-messung"), and without an id column
    each entry gets an id made from its question. Problems name the row, as `botkit build` would.
    """
    unknown = sorted({f for f in mapping.values() if f and f not in FIELDS})
    if unknown:
        raise KnowledgeError([Problem(table.name, None, None, f"mapping uses unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")])
    by_field: dict[str, str] = {}
    for column, field in mapping.items():
        if field and field in by_field:
            raise KnowledgeError([Problem(table.name, None, None, f"columns {by_field[field]!r} and {column!r} are both mapped to {field!r}; keep one")])
        if field:
            by_field[field] = column
    detector = None if "lang" in by_field else LanguageDetector(tuple(dict.fromkeys((lang, "de", "en"))))
    records: list[RawRecord] = []
    used_ids: set[str] = set()
    for (_, row), line in zip(table.frame.iterrows(), table.rows):
        cells = {field: str(row[column]).strip() for field, column in by_field.items()}
        if not any(cells.values()):
            continue
        values: dict[str, Any] = {}
        for field in REQUIRED:
            values[field] = cells.get(field, "")
        if detector is None:
            values["lang"] = _language(values["lang"])
        else:
            values["lang"] = detector.detect(f"{values['question']} {values['answer']}", lang)
        values["scope"] = SCOPES.get(normalize_name(values["scope"]), values["scope"]) if "scope" in cells else scope
        values["topic"] = slugify(values["topic"]) if values["topic"] else topic
        if values["id"] and not _SLUG.match(values["id"]):
            values["id"] = slugify(values["id"])  # "MS-01" -> "ms-01"
        if not values["id"]:
            words = re.findall(r"\w+", values["question"])[:6]
            values["id"] = unique_id(slugify(" ".join(words)) or "eintrag", used_ids)
        used_ids.add(values["id"])
        for field in LISTS:
            if field in cells:
                values[field] = split_list(cells[field])
        if cells.get("teaser"):
            values["teaser"] = cells["teaser"]
        records.append((values, table.name, line, {}))
    problems = list(table.problems)
    entries = validate_records(records, problems)
    ignored = tuple(column for column, field in mapping.items() if not field)
    ordered = sorted(problems, key=lambda p: p.line or 0)  # read and validation problems, by row
    return MappedKnowledge(tuple(entries), tuple(ordered), ignored, len(records))


def write_knowledge(entries: Sequence[FaqEntry], path: str | Path) -> Path:
    """Write entries as a botkit YAML knowledge file (empty optional fields left out)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    items = []
    for entry in entries:
        item: dict[str, Any] = {}
        for field in FIELDS:
            value = getattr(entry, field)
            if value or field in REQUIRED:
                item[field] = list(value) if isinstance(value, tuple) else value
        items.append(item)
    text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text.replace("\n- id:", "\n\n- id:"), encoding="utf-8")
    return path


def split_list(cell: str) -> list[str]:
    """A list cell's items: split on `|` and line breaks, and on `,` `;` where the parts are keywords.

    "Kündigung, Vertrag kündigen; Abo beenden" gives three items; a phrasing with a comma in it
    ("Karte verloren, wie melde ich den Stand?") stays one, since keywords are short and have no
    sentence punctuation.
    """
    items: list[str] = []
    for part in _LIST_SPLIT.split(cell.strip()):
        pieces = [p for p in _KEYWORD_SPLIT.split(part) if p]
        keywords = len(pieces) > 1 and all(len(p.split()) <= 4 and not re.search(r"[?!.]$", p) for p in pieces)
        items.extend(pieces if keywords else [part] if part else [])
    return items


def _language(value: str) -> str:
    return LANGUAGES.get(normalize_name(value), value.strip().lower())


def _read_csv(path: Path, max_bytes: int) -> ClientTable:
    read = read_text_file(path, max_bytes=max_bytes, name=path.name)
    text = read.text
    delimiter = sniff_delimiter(text, SPREADSHEET_DELIMITERS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    start = 2
    for record in reader:
        line, start = start, reader.line_num + 1
        if any(cell.strip() for cell in record[len(header) :]):  # trailing empty cells are harmless
            problems.append(
                Problem(
                    path.name,
                    line,
                    None,
                    (
                        f"has {len(record)} cells but the header has {len(header)}: is there a {delimiter!r} inside "
                        "a cell that is not in quotes? The row was skipped"
                    ),
                )
            )
            continue
        rows.append([*record, *[""] * len(header)][: len(header)])
        lines.append(line)
    notices = (read.notice,) if read.notice else ()
    return ClientTable(path.name, pd.DataFrame(rows, columns=header, dtype=str), tuple(lines), tuple(problems), notices)


def _read_xlsx(path: Path, max_bytes: int) -> ClientTable:
    book = openpyxl.load_workbook(io.BytesIO(read_capped(path, max_bytes, path.name)), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_cell(c).strip() for c in next(rows, ())]
        cells: list[list[str]] = []
        lines: list[int] = []
        for number, values in enumerate(rows, start=2):  # row 1 is the header
            cells.append([_cell(v) for v in (*values, *[None] * len(header))][: len(header)])
            lines.append(number)
    finally:
        book.close()
    return ClientTable(path.name, pd.DataFrame(cells, columns=header, dtype=str), tuple(lines))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric id typed as 7 is read back as 7.0
    return str(value)


def _read_yaml(path: Path, max_bytes: int) -> ClientTable:
    read = read_text_file(path, max_bytes=max_bytes, name=path.name)
    root = compose_yaml(read.text, path.name)
    if not isinstance(root, yaml.SequenceNode):
        raise KnowledgeError([Problem(path.name, 1, None, "must be a list of entries (each starting with '- question: ...')")])
    records: list[dict[str, str]] = []
    lines: list[int] = []
    for node in root.value:
        if not isinstance(node, yaml.MappingNode):
            raise KnowledgeError([Problem(path.name, node.start_mark.line + 1, None, "an entry must be a mapping of fields")])
        data = yaml.safe_load(yaml.serialize(node)) or {}
        records.append({str(k): " | ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v)) for k, v in data.items()})
        lines.append(node.start_mark.line + 1)
    notices = (read.notice,) if read.notice else ()
    return ClientTable(path.name, pd.DataFrame(records, dtype=str).fillna(""), tuple(lines), notices=notices)
