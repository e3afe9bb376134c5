"""Edit a knowledge base's files and a cases file: a phrasing added to an entry, a new entry, a labelled case.

Shared by the workbench's simulator fixes (`botkit.workbench.fixes`) and `botkit review`. Only YAML
entry files are edited; comments in them are not kept (PyYAML), the entries and their order are.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from botkit.errors import ConfigError, KnowledgeError, Problem
from botkit.knowledge import load_knowledge, validate_records
from botkit.textfile import read_text_file
from botkit.types import FaqEntry

NEW_ENTRIES = "new-entries.yaml"
CASE_HEADER = ("question", "expected_id", "lang")


def add_paraphrase(knowledge: Path, entry_id: str, text: str) -> bool:
    """Add `text` to the paraphrases of entry `entry_id` in its YAML file; False if it is a phrasing already."""
    text = " ".join(text.split())
    if not text:
        raise ConfigError("the phrasing is empty; type the customer's message first")
    entry = find_entry(knowledge, entry_id)
    if text.casefold() in {p.casefold() for p in entry.phrasings}:
        return False
    file = Path(entry.source.rsplit(":", 1)[0])
    if file.suffix.lower() not in {".yaml", ".yml"}:
        raise ConfigError(f"entry {entry_id!r} is in {file.name}; add the phrasing there (only YAML files are edited)")
    items = yaml.safe_load(read_text_file(file).text) or []
    for item in items:
        if isinstance(item, dict) and str(item.get("id")) == entry_id:
            item["paraphrases"] = [*(item.get("paraphrases") or []), text]
    _dump(items, file)
    return True


def add_entry(knowledge: Path, values: Mapping[str, Any]) -> FaqEntry:
    """Validate a new entry and append it to `new-entries.yaml` in the knowledge folder.

    Raises:
        KnowledgeError: a field is missing or invalid.
        ConfigError: the id is taken.
    """
    folder = knowledge if knowledge.is_dir() else knowledge.parent
    file = folder / NEW_ENTRIES
    problems: list[Problem] = []
    entries = validate_records([(dict(values), file.name, 0, {})], problems)
    if problems:
        raise KnowledgeError(problems)
    if entries[0].id in load_knowledge(folder).by_id():
        raise ConfigError(f"there is an entry {entries[0].id!r} already; choose another id")
    items = (yaml.safe_load(read_text_file(file).text) or []) if file.exists() else []
    _dump([*items, dict(values)], file)
    return entries[0]


def append_case(path: Path, question: str, expected_id: str | None, lang: str) -> Path:
    """Append a labelled case (`question,expected_id,lang`) to a CSV; no `expected_id`: a person should take it."""
    question = " ".join(question.split())
    if not question:
        raise ConfigError("the question is empty; type the customer's message first")
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or not path.read_text(encoding="utf-8").strip()
    with path.open("a", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(CASE_HEADER)
        writer.writerow([question, expected_id or "", lang])
    return path


def find_entry(knowledge: Path, entry_id: str) -> FaqEntry:
    """The entry `entry_id` of the knowledge base; `ConfigError` if there is none."""
    entries = load_knowledge(knowledge).by_id()
    if entry_id not in entries:
        raise ConfigError(f"there is no entry {entry_id!r} in {knowledge}; choose one from the list")
    return entries[entry_id]


def _dump(items: list[Any], file: Path) -> None:
    text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
    file.write_text(text.replace("\n- id:", "\n\n- id:"), encoding="utf-8")
