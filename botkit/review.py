"""Learn from served conversations: the messages the bot was unsure of, grouped, with the nearest entries.

A consultant accepts each message as a paraphrase of an entry, as a new entry, or as out of
scope; the knowledge files (`botkit.curation`) and a cases file (a labelled case) are written,
and the message is marked as reviewed so it is not listed again. Listed are user messages that
a person flagged as answered wrongly, that were handed over for low confidence, that got
suggestions (the uncertain band), that were handed over after repeated misses, or that were
answered just before the user asked for a person.

Reading served conversations is opt-in: `Settings.review_conversations`
(`BOTKIT_REVIEW_CONVERSATIONS=1`), since real messages end up in files.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from sqlalchemy import Engine, select, update

from botkit import curation
from botkit.channels.lint import LintFinding
from botkit.config import Settings
from botkit.db import conversations, turns
from botkit.errors import ConfigError
from botkit.grouping import average_linkage
from botkit.knowledge import KnowledgeBase, load_knowledge
from botkit.protocols import Embedder
from botkit.retrieve import Retriever
from botkit.types import Decision, FaqEntry, Reason

Why = Literal["wrong_answer", "low_confidence", "suggested", "handed_over", "answered"]
WRONG_ANSWER: Final = "wrong_answer"
MIN_PHRASINGS = 3  # below this, `botkit llm paraphrases` is offered for the entry
MIN_PARAPHRASES = 2  # below this, `botkit lint` warns (benchmarks/README.md: each real paraphrase raises top-1)
NEAREST = 3
# A person asked for or nothing offered fitted: the bot's answer just before probably missed.
_AFTER_MISS = (Reason.USER_REQUEST.value, Reason.NOTHING_FITS.value)


@dataclass(frozen=True)
class ReviewMessage:
    """One user message to review; `entries` are the ones the bot answered from or offered."""

    id: int
    text: str
    why: Why
    lang: str
    confidence: float | None
    entries: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class NearEntry:
    """A knowledge entry close to a group of messages; `score` is the mean retrieval confidence."""

    entry_id: str
    question: str
    score: float
    phrasings: int


@dataclass(frozen=True)
class ReviewGroup:
    """Messages that mean about the same, oldest first, with the entries nearest to them."""

    messages: tuple[ReviewMessage, ...]
    nearest: tuple[NearEntry, ...]


@dataclass(frozen=True)
class ReviewList:
    """What `botkit review` shows: the groups, biggest first, and entries with few phrasings."""

    groups: tuple[ReviewGroup, ...]
    thin_entries: tuple[NearEntry, ...]  # fewer than MIN_PHRASINGS phrasings (score 0: not retrieved)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `botkit review --json`."""
        return {"groups": [asdict(g) for g in self.groups], "thin_entries": [asdict(e) for e in self.thin_entries]}

    def rows(self) -> list[dict[str, Any]]:
        """One row per message, for a table: its group, id, why it is listed and the group's nearest entries."""
        return [
            {
                "group": n,
                "id": m.id,
                "why": m.why,
                "confidence": None if m.confidence is None else round(m.confidence, 2),
                "message": m.text,
                "nearest": " · ".join(f"{e.entry_id} {e.score:.2f}" for e in group.nearest),
            }
            for n, group in enumerate(self.groups, start=1)
            for m in group.messages
        ]

    def llm_commands(self, knowledge: str | Path) -> list[str]:
        """`botkit llm paraphrases` for each entry with fewer than `MIN_PHRASINGS` phrasings."""
        return [f"botkit llm paraphrases {knowledge} --entry {e.entry_id}" for e in self.thin_entries]


@dataclass(frozen=True)
class Acceptance:
    """What a consultant made of a message: `paraphrase` of / `new` entry `entry_id`, or `out-of-scope`."""

    kind: Literal["paraphrase", "new", "out-of-scope"]
    entry_id: str | None = None

    @classmethod
    def parse(cls, text: str) -> Acceptance:
        """`paraphrase:ENTRY_ID`, `new:NEW_ID` or `out-of-scope`."""
        kind, _, entry_id = text.strip().partition(":")
        entry_id = entry_id.strip()
        if kind == "out-of-scope" and not entry_id:
            return cls("out-of-scope")
        if kind == "paraphrase" and entry_id:
            return cls("paraphrase", entry_id)
        if kind == "new" and entry_id:
            return cls("new", entry_id)
        raise ConfigError(f"--as {text!r}: use paraphrase:ENTRY_ID, new:NEW_ID or out-of-scope")

    def __str__(self) -> str:
        return self.kind if self.entry_id is None else f"{self.kind}:{self.entry_id}"


def find_messages(engine: Engine, *, include_answered: bool = False) -> list[ReviewMessage]:
    """User messages not yet reviewed that are worth a look (see the module docstring), oldest first.

    `include_answered` adds every message answered from an entry, so a wrong one can be flagged.
    """
    query = (
        select(turns, conversations.c.lang)
        .join(conversations, conversations.c.id == turns.c.conversation_id)
        .where(turns.c.role.in_(("user", "bot")))
        .order_by(turns.c.conversation_id, turns.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    found: dict[int, ReviewMessage] = {}
    for _, conversation in groupby(rows, key=lambda row: row["conversation_id"]):
        pairs = _exchanges(list(conversation))
        for n, (user, bot) in enumerate(pairs):
            why = _why(user, bot, include_answered)
            if why is not None:
                found[user["id"]] = _message(user, bot, why)
            if n and bot["decision"] == Decision.HANDOVER.value and bot["reason"] in _AFTER_MISS:
                earlier, answer = pairs[n - 1]
                from_entry = answer["decision"] == Decision.ANSWERED.value and json.loads(answer["entries"] or "[]")
                if from_entry and earlier["review"] is None and earlier["id"] not in found:
                    found[earlier["id"]] = _message(earlier, answer, "handed_over")
    return sorted(found.values(), key=lambda m: m.id)


def flag_wrong_answer(engine: Engine, conversation_id: str, text: str | None = None) -> ReviewMessage | None:
    """Mark the bot's latest answer from an entry in a conversation as wrong, so review lists it.

    With `text`, the latest answered user message with that text (case and spaces ignored) is
    flagged instead. Returns the flagged message, or None when no message there was answered
    from an entry.
    """
    query = (
        select(turns, conversations.c.lang)
        .join(conversations, conversations.c.id == turns.c.conversation_id)
        .where(turns.c.conversation_id == conversation_id, turns.c.role.in_(("user", "bot")))
        .order_by(turns.c.id)
    )
    with engine.begin() as conn:
        rows = conn.execute(query).mappings().all()
        wanted = None if text is None else " ".join(text.split()).casefold()
        answered = [
            (user, bot)
            for user, bot in _exchanges(rows)
            if bot["decision"] == Decision.ANSWERED.value
            and json.loads(bot["entries"] or "[]")
            and (wanted is None or " ".join(user["text"].split()).casefold() == wanted)
        ]
        if not answered:
            return None
        user, bot = answered[-1]
        conn.execute(update(turns).where(turns.c.id == user["id"]).values(flag=WRONG_ANSWER, review=None))
    return _message(user, bot, WRONG_ANSWER)


def _exchanges(rows: Sequence[Any]) -> list[tuple[Any, Any]]:
    """(user turn, the bot turn answering it) pairs of one conversation's turns in order."""
    pairs: list[tuple[Any, Any]] = []
    waiting = None
    for row in rows:
        if row["role"] == "user":
            waiting = row
        elif waiting is not None:
            pairs.append((waiting, row))
            waiting = None
    return pairs


def group_messages(messages: Sequence[ReviewMessage], embedder: Embedder, *, min_similarity: float = 0.6) -> list[list[ReviewMessage]]:
    """Messages grouped by meaning (average linkage on cosine similarity); biggest groups first."""
    if not messages:
        return []
    vectors = np.asarray(embedder.embed([m.text for m in messages]), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    groups = [[messages[i] for i in g] for g in average_linkage(vectors @ vectors.T, min_similarity)]
    return sorted(groups, key=lambda g: (-len(g), g[0].id))


class Reviewer:
    """The served conversations of one knowledge base, for review; close it (or use `with`) when done."""

    def __init__(self, knowledge: Path, engine: Engine, retriever: Retriever, embedder: Embedder, cases: Path) -> None:
        self.knowledge = knowledge
        self.cases = cases
        self._engine = engine
        self._retriever = retriever
        self._embedder = embedder

    def pending(self, *, include_answered: bool = False, min_similarity: float = 0.6) -> ReviewList:
        """The messages to review, grouped, each group with its nearest entries."""
        kb = load_knowledge(self.knowledge)
        messages = find_messages(self._engine, include_answered=include_answered)
        groups = tuple(ReviewGroup(tuple(g), self._nearest(kb, g)) for g in group_messages(messages, self._embedder, min_similarity=min_similarity))
        thin = tuple(NearEntry(e.id, e.question, 0.0, len(e.phrasings)) for e in kb.entries if len(e.phrasings) < MIN_PHRASINGS)
        return ReviewList(groups, thin)

    def accept(self, message_id: int, acceptance: Acceptance, *, answer: str = "", topic: str = "neu", text: str = "") -> str:
        """Write the message to the knowledge and the cases file as `acceptance` says; returns what was done.

        Args:
            answer: the answer of a `new` entry (required for it: the bot answers only from curated text).
            topic: the topic of a `new` entry.
            text: what to write instead of the message as sent, e.g. without a name or customer number.
        """
        sent, lang = self._message(message_id)
        text = text.strip() or sent
        if acceptance.kind == "paraphrase":
            entry = curation.find_entry(self.knowledge, acceptance.entry_id or "")
            added = curation.add_paraphrase(self.knowledge, entry.id, text)
            curation.append_case(self.cases, text, entry.id, entry.lang)
            done = f"added as a paraphrase of {entry.id}" if added else f"already a phrasing of {entry.id}"
        elif acceptance.kind == "new":
            if not answer.strip():
                raise ConfigError("a new entry needs its answer: --answer 'TEXT' (the bot answers only from curated text)")
            values = {"id": acceptance.entry_id, "question": text, "answer": answer.strip(), "topic": topic, "scope": "service", "lang": lang}
            entry = curation.add_entry(self.knowledge, values)
            curation.append_case(self.cases, text, entry.id, entry.lang)
            done = f"written as new entry {entry.id} to {curation.NEW_ENTRIES}"
        else:
            curation.append_case(self.cases, text, None, lang)
            done = "marked out of scope (a person should take it)"
        with self._engine.begin() as conn:
            conn.execute(update(turns).where(turns.c.id == message_id).values(review=str(acceptance)))
        return f"message {message_id}: {done}; labelled case appended to {self.cases}"

    def flag_wrong(self, message_id: int) -> None:
        """Record that the bot's answer to this user message was wrong, so review lists it."""
        self._message(message_id)
        with self._engine.begin() as conn:
            conn.execute(update(turns).where(turns.c.id == message_id).values(flag=WRONG_ANSWER, review=None))

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Reviewer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _message(self, message_id: int) -> tuple[str, str]:
        """The text of a user message and its conversation's language (else the knowledge's main one)."""
        query = (
            select(turns, conversations.c.lang)
            .join(conversations, conversations.c.id == turns.c.conversation_id)
            .where(turns.c.id == message_id, turns.c.role == "user")
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise ConfigError(f"there is no user message {message_id}; `botkit review` lists them with their ids")
        return row["text"], row["lang"] or _main_language(load_knowledge(self.knowledge))

    def _nearest(self, kb: KnowledgeBase, group: Sequence[ReviewMessage]) -> tuple[NearEntry, ...]:
        scores: dict[str, float] = defaultdict(float)
        for message in group:
            for hit in self._retriever.retrieve(message.text, lang=message.lang or None).hits:
                scores[hit.entry_id] += hit.score / len(group)
        entries = kb.by_id()
        best = sorted((i for i in scores if i in entries), key=lambda i: (-scores[i], i))[:NEAREST]
        return tuple(NearEntry(i, entries[i].question, round(scores[i], 3), len(entries[i].phrasings)) for i in best)


def open_reviewer(knowledge: str | Path, settings: Settings, *, cases: Path | None = None, embedder: Embedder | None = None) -> Reviewer:
    """A `Reviewer` on the bot's own database and index (built if needed).

    Args:
        cases: the labelled cases file; default `cases/cases.csv` beside the knowledge folder.

    Raises:
        ConfigError: reviewing served conversations is not switched on.
    """
    from botkit.index import KnowledgeIndex
    from botkit.wiring import build, embedder_for, open_engine, vector_store_for

    if not settings.review_conversations:
        raise ConfigError(
            "reviewing served conversations is off; switch it on with BOTKIT_REVIEW_CONVERSATIONS=1 "
            "(real messages may then be copied into knowledge and cases files: say so in the privacy notice)"
        )
    path = Path(knowledge)
    embedder = embedder or embedder_for(settings)
    store = vector_store_for(path, settings)
    kb, _ = build(path, settings, embedder=embedder, vector_store=store)
    retriever = Retriever(KnowledgeIndex.open(store, embedder), {e.id: e.lang for e in kb.entries})
    folder = path if path.is_dir() else path.parent
    return Reviewer(path, open_engine(path, settings), retriever, embedder, cases or folder.parent / "cases" / "cases.csv")


def few_paraphrases(entries: Sequence[FaqEntry]) -> list[LintFinding]:
    """A `botkit lint` warning (not an error) per entry with fewer than `MIN_PARAPHRASES` paraphrases."""
    return [
        LintFinding(
            e.id,
            "all",
            "paraphrases",
            len(e.paraphrases),
            MIN_PARAPHRASES,
            hard=False,
            note="few phrasings: real questions are missed more often; add some (botkit review, botkit llm paraphrases)",
        )
        for e in entries
        if len(e.paraphrases) < MIN_PARAPHRASES
    ]


def _why(user: Any, bot: Any, include_answered: bool) -> Why | None:
    if user["review"] is not None or not user["text"].strip():
        return None
    if user["flag"] == WRONG_ANSWER:
        return "wrong_answer"
    if bot["reason"] == Reason.LOW_CONFIDENCE.value:
        return "low_confidence"
    if bot["reason"] == Reason.UNCERTAIN.value:
        return "suggested"
    if bot["decision"] == Decision.HANDOVER.value and bot["reason"] == Reason.REPEATED_MISSES.value:
        return "handed_over"
    if include_answered and bot["decision"] == Decision.ANSWERED.value and json.loads(bot["entries"] or "[]"):
        return "answered"
    return None


def _message(user: Any, bot: Any, why: Why) -> ReviewMessage:
    return ReviewMessage(
        id=user["id"],
        text=user["text"],
        why=why,
        lang=user["lang"] or "",
        confidence=bot["confidence"],
        entries=tuple(json.loads(bot["entries"] or "[]")),
        at=user["at"],
    )


def _main_language(kb: KnowledgeBase) -> str:
    langs = [e.lang for e in kb.entries]
    return max(sorted(set(langs)), key=langs.count) if langs else "de"
