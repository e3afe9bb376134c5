"""A notebook's bot on a workshop folder, and the import that fills the folder's knowledge base.

```python
workshop = Workshop.open(WORKSHOP)
session = Session(workshop)          # the bot on knowledge/, a private database for this notebook
session.bot.reply("u1", "Hallo")
session.reload()                     # after a fix: only changed entries are embedded again
```
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from botkit.bot import Bot
from botkit.config import Settings
from botkit.errors import ConfigError
from botkit.evaluation.cases import Case, check_references, load_cases
from botkit.knowledge import KnowledgeBase
from botkit.protocols import Embedder
from botkit.types import FaqEntry
from botkit.wiring import default_embedder, open_bot
from botkit.workbench.columns import ClientTable, MappedKnowledge, apply_mapping, write_knowledge
from botkit.workbench.folder import SavedMapping, Workshop
from botkit.workbench.offers import apply_offer_choices
from botkit.workbench.overlap import resolve_overlaps
from botkit.workbench.script import propose_topics
from botkit.workbench.text import slugify


class Session:
    """The bot of one notebook on the workshop's knowledge base, on a fresh throw-away database.

    `reload()` picks up changed knowledge files (the index is rebuilt incrementally) and keeps
    the conversations, so a fix made in the simulator is used by the very next message.
    """

    def __init__(self, workshop: Workshop, *, embedder: Embedder | None = None, clock: Callable[[], float] = time.time, **settings: object) -> None:
        self.workshop = workshop
        self.embedder = embedder or default_embedder()
        self.clock = clock
        self._folder = tempfile.TemporaryDirectory(prefix="botkit-workshop-")
        self.settings: Settings = workshop.settings(database_url=f"sqlite:///{Path(self._folder.name) / 'workshop.db'}", **settings)
        self.bot = self._open()

    def reload(self) -> Bot:
        """Re-read the workshop and its knowledge; returns the new bot (same conversations)."""
        old = self.bot
        self.workshop = Workshop.open(self.workshop.root)
        self.bot = self._open()
        old.close()
        return self.bot

    def close(self) -> None:
        """Dispose of the database and delete it."""
        self.bot.close()
        self._folder.cleanup()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _open(self) -> Bot:
        self.workshop.write_client_file()
        return open_bot(self.workshop.knowledge, self.settings, embedder=self.embedder, clock=self.clock)


def topic_labels(table: ClientTable, mapping: Mapping[str, str]) -> dict[str, str]:
    """Topic slug -> the category name as the client wrote it ("zaehler-messung" -> "Zähler & Messung")."""
    column = next((c for c, f in mapping.items() if f == "topic"), None)
    if column is None:
        return {}
    return {slugify(v): v.strip() for v in table.frame[column] if str(v).strip()}


def import_faq(
    workshop: Workshop, table: ClientTable, mapping: Mapping[str, str], defaults: Mapping[str, str] | None = None
) -> tuple[Workshop, MappedKnowledge]:
    """Apply the chosen mapping, save it in `workshop.yaml` and write `knowledge/faq.yaml`.

    The consultant's choices in `workshop.yaml` are applied on the way: confirmed offer
    suggestions (`offers.apply_offer_choices`), then duplicates and conflicts
    (`overlap.resolve_overlaps`); unconfirmed suggestions change nothing. Marketing topics
    without a consent topic get a drafted one (to approve with the client); phrasings added in
    the simulator are kept across re-imports. The returned `MappedKnowledge` holds the entries
    as exported, before the choices, so the suggestions can be shown again.
    """
    values = {**workshop.defaults_for(table), **(defaults or {})}
    mapped = apply_mapping(table, mapping, lang=values["lang"], scope=values["scope"], topic=values["topic"])
    details = workshop.details
    chosen = apply_offer_choices(mapped.entries, workshop.choices.offers, details.topics)
    chosen = resolve_overlaps(chosen, workshop.choices.overlaps)
    drafts = propose_topics(chosen, details.topics, client=details.name or "uns", tone=details.tone, labels=topic_labels(table, mapping))
    if drafts:
        details = replace(details, topics=(*details.topics, *drafts), proposed=(*details.proposed, *(t.id for t in drafts)))
    workshop = workshop.save(details=details, mapping=SavedMapping(table.name, dict(mapping), dict(values)))
    entries = [_with_added(e, workshop.added_paraphrases.get(e.id, ())) for e in chosen]
    write_knowledge(entries, workshop.knowledge_file)
    return workshop, mapped


def workshop_cases(workshop: Workshop, knowledge: KnowledgeBase) -> list[Case]:
    """The labelled cases from `inputs/` and those saved in the simulator, checked against the knowledge base."""
    files = workshop.case_files()
    if not files:
        raise ConfigError(
            "no test cases yet: save some in notebook 2 (buttons under the chat) or copy labelled cases (a CSV with question,expected_id,lang) into inputs/"
        )
    cases = [case for file in files for case in load_cases(file)]
    check_references(knowledge, cases)
    return cases


def export_workshop(workshop: Workshop, embedder: Embedder | None = None) -> Path:
    """A fresh `botkit export` of the workshop's bot (knowledge, index, calibration) into `export/`."""
    from botkit.webhook.export import export_bot  # the server extra; only the hand-over notebook needs it

    if workshop.export.exists():
        shutil.rmtree(workshop.export)
    return export_bot(workshop.knowledge, workshop.export, workshop.settings(), embedder=embedder or default_embedder())


def _with_added(entry: FaqEntry, added: Sequence[str]) -> FaqEntry:
    new = tuple(p for p in added if p not in entry.phrasings)
    return replace(entry, paraphrases=(*entry.paraphrases, *new)) if new else entry
