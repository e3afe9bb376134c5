"""See it wrong, fix it, re-test: the simulator's fixes, written to the workshop's knowledge and cases files.

Every fix is a file change the consultant can open in the Lab: a phrasing added to an entry
(and remembered in `workshop.yaml`, so a new import keeps it), a new entry in
`knowledge/new-entries.yaml`, a test case appended to `cases/cases.csv`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import yaml

from botkit.errors import ConfigError, KnowledgeError, Problem
from botkit.knowledge import load_knowledge, validate_records
from botkit.textfile import read_text_file
from botkit.types import FaqEntry
from botkit.workbench.folder import Workshop
from botkit.workbench.text import slugify, unique_id

NEW_ENTRIES = "new-entries.yaml"
CASE_HEADER = ("question", "expected_id", "lang")


def add_paraphrase(workshop: Workshop, entry_id: str, text: str) -> Workshop:
    """Add `text` as a phrasing of entry `entry_id` (in its YAML file and in `workshop.yaml`)."""
    text = " ".join(text.split())
    if not text:
        raise ConfigError("the phrasing is empty; type the customer's message first")
    entry = _entry(workshop, entry_id)
    if text.casefold() in {p.casefold() for p in entry.phrasings}:
        return workshop
    file = Path(entry.source.rsplit(":", 1)[0])
    if file.suffix.lower() not in {".yaml", ".yml"}:
        raise ConfigError(f"entry {entry_id!r} is in {file.name}; add the phrasing there (the workbench edits YAML files only)")
    items = yaml.safe_load(read_text_file(file).text) or []
    for item in items:
        if isinstance(item, dict) and str(item.get("id")) == entry_id:
            item["paraphrases"] = [*(item.get("paraphrases") or []), text]
    _dump(items, file)
    added = dict(workshop.added_paraphrases)
    added[entry_id] = (*added.get(entry_id, ()), text)
    return workshop.save(added_paraphrases=added)


def new_entry(workshop: Workshop, question: str, answer: str, *, topic: str = "", lang: str = "", scope: str = "service") -> FaqEntry:
    """Write a new entry to `knowledge/new-entries.yaml`; the id is made from the question."""
    knowledge = load_knowledge(workshop.knowledge)
    used = {e.id for e in knowledge.entries}
    words = re.findall(r"\w+", question)[:6]
    values: dict[str, Any] = {
        "id": unique_id(slugify(" ".join(words)) or "eintrag", used),
        "question": " ".join(question.split()),
        "answer": answer.strip(),
        "topic": slugify(topic) or "allgemein",
        "scope": scope,
        "lang": lang or workshop.details.lang,
    }
    file = workshop.knowledge / NEW_ENTRIES
    problems: list[Problem] = []
    entries = validate_records([(values, file.name, 0, {})], problems)
    if problems:
        raise KnowledgeError(problems)
    items = (yaml.safe_load(read_text_file(file).text) or []) if file.exists() else []
    _dump([*items, values], file)
    return entries[0]


def save_case(workshop: Workshop, question: str, expected_id: str | None, lang: str = "") -> Path:
    """Append a test case to `cases/cases.csv`: the right entry, or None when a person should take it."""
    question = " ".join(question.split())
    if not question:
        raise ConfigError("the question is empty; type the customer's message first")
    if expected_id:
        _entry(workshop, expected_id)
    path = workshop.saved_cases
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or not path.read_text(encoding="utf-8").strip()
    with path.open("a", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(CASE_HEADER)
        writer.writerow([question, expected_id or "", lang or workshop.details.lang])
    return path


def _entry(workshop: Workshop, entry_id: str) -> FaqEntry:
    entries = load_knowledge(workshop.knowledge).by_id()
    if entry_id not in entries:
        raise ConfigError(f"there is no entry {entry_id!r} in {workshop.knowledge}; choose one from the list")
    return entries[entry_id]


def _dump(items: list[Any], file: Path) -> None:
    text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
    file.write_text(text.replace("\n- id:", "\n\n- id:"), encoding="utf-8")
