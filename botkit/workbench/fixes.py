"""See it wrong, fix it, re-test: the simulator's fixes, written to the workshop's knowledge and cases files.

Every fix is a file change the consultant can open in the Lab: a phrasing added to an entry
(and remembered in `workshop.yaml`, so a new import keeps it), a new entry in
`knowledge/new-entries.yaml`, a test case appended to `cases/cases.csv`. The file edits
themselves are `botkit.curation`'s, shared with `botkit review`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from botkit import curation
from botkit.knowledge import load_knowledge
from botkit.types import FaqEntry
from botkit.workbench.folder import Workshop
from botkit.workbench.text import slugify, unique_id


def add_paraphrase(workshop: Workshop, entry_id: str, text: str) -> Workshop:
    """Add `text` as a phrasing of entry `entry_id` (in its YAML file and in `workshop.yaml`)."""
    if not curation.add_paraphrase(workshop.knowledge, entry_id, text):
        return workshop
    added = dict(workshop.added_paraphrases)
    added[entry_id] = (*added.get(entry_id, ()), " ".join(text.split()))
    return workshop.save(added_paraphrases=added)


def new_entry(workshop: Workshop, question: str, answer: str, *, topic: str = "", lang: str = "", scope: str = "service") -> FaqEntry:
    """Write a new entry to `knowledge/new-entries.yaml`; the id is made from the question."""
    used = {e.id for e in load_knowledge(workshop.knowledge).entries}
    words = re.findall(r"\w+", question)[:6]
    values: dict[str, Any] = {
        "id": unique_id(slugify(" ".join(words)) or "eintrag", used),
        "question": " ".join(question.split()),
        "answer": answer.strip(),
        "topic": slugify(topic) or "allgemein",
        "scope": scope,
        "lang": lang or workshop.details.lang,
    }
    return curation.add_entry(workshop.knowledge, values)


def save_case(workshop: Workshop, question: str, expected_id: str | None, lang: str = "") -> Path:
    """Append a test case to `cases/cases.csv`: the right entry, or None when a person should take it."""
    if expected_id:
        curation.find_entry(workshop.knowledge, expected_id)
    return curation.append_case(workshop.saved_cases, question, expected_id, lang or workshop.details.lang)
