"""Near-duplicate and conflicting FAQ entries: similar questions, same or different answers.

Two entries whose phrasings mean nearly the same compete for the same user questions: the
bot then asks which one is meant, or answers from either at random. With the same answer
they are duplicates (merge them); with different answers they conflict (the client has to
say which answer is right). Only entries of the same language are compared, because an
entry and its translation are meant to be similar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from botkit.protocols import Embedder
from botkit.types import FaqEntry

DUPLICATE = "duplicate"
CONFLICT = "conflict"
KEEP_FIRST, KEEP_SECOND, MERGE, BOTH = "keep-first", "keep-second", "merge", "both"


@dataclass(frozen=True)
class Overlap:
    """Two entries with nearly the same question; `kind` is "duplicate" or "conflict"."""

    kind: str
    first: str  # entry ids, in knowledge base order
    second: str
    similarity: float  # cosine of their closest phrasings
    first_phrasing: str
    second_phrasing: str
    answer_similarity: float
    first_answer: str
    second_answer: str


def find_overlaps(
    entries: Sequence[FaqEntry],
    embedder: Embedder,
    *,
    min_similarity: float = 0.8,
    same_answer: float = 0.95,
) -> list[Overlap]:
    """Pairs of same-language entries whose closest phrasings reach `min_similarity`, most similar first.

    Identical questions always count. Answers that are equal apart from spacing and case,
    or whose embeddings reach `same_answer`, make a duplicate; any other pair is a conflict.
    """
    if len(entries) < 2:
        return []
    phrasings = [(i, p) for i, e in enumerate(entries) for p in e.phrasings]
    vectors = _unit(embedder.embed([p for _, p in phrasings]))
    answers = _unit(embedder.embed([e.answer for e in entries]))
    owner = np.array([i for i, _ in phrasings])
    similarity = vectors @ vectors.T
    found = []
    for a in range(len(entries)):
        for b in range(a + 1, len(entries)):
            first, second = entries[a], entries[b]
            if first.lang != second.lang:
                continue
            block = similarity[np.ix_(owner == a, owner == b)]
            k, m = np.unravel_index(int(np.argmax(block)), block.shape)
            score = float(block[k, m])
            same_question = _plain(first.question) == _plain(second.question)
            if score < min_similarity and not same_question:
                continue
            answer_score = float(answers[a] @ answers[b])
            same = _plain(first.answer) == _plain(second.answer) or answer_score >= same_answer
            found.append(
                Overlap(
                    kind=DUPLICATE if same else CONFLICT,
                    first=first.id,
                    second=second.id,
                    similarity=round(max(score, 1.0 if same_question else score), 4),
                    first_phrasing=first.phrasings[k],
                    second_phrasing=second.phrasings[m],
                    answer_similarity=round(answer_score, 4),
                    first_answer=first.answer,
                    second_answer=second.answer,
                )
            )
    return sorted(found, key=lambda o: (-o.similarity, o.first, o.second))


def overlap_rows(overlaps: Sequence[Overlap], choices: Mapping[tuple[str, str], str]) -> list[dict[str, object]]:
    """One table row per pair: kind, entries, similarity, answers and the choice made ("open" if none yet)."""
    return [
        {
            "kind": o.kind,
            "first": o.first,
            "second": o.second,
            "similarity": o.similarity,
            "first answer": o.first_answer,
            "second answer": o.second_answer,
            "choice": choices.get((o.first, o.second), "open"),
        }
        for o in overlaps
    ]


def resolve_overlaps(entries: Sequence[FaqEntry], choices: Mapping[tuple[str, str], str]) -> list[FaqEntry]:
    """Apply the consultant's choices, in order: keep the first entry, keep the second, merge them, or keep both.

    A removed entry's later choices apply to the entry that replaced it; choices naming
    entries that no longer exist are skipped.
    """
    kept = {e.id: e for e in entries}
    order = [e.id for e in entries]
    alias: dict[str, str] = {}

    def current(entry_id: str) -> str:
        while entry_id in alias:
            entry_id = alias[entry_id]
        return entry_id

    for (first, second), choice in choices.items():
        a, b = current(first), current(second)
        if a == b or a not in kept or b not in kept or choice == BOTH:
            continue
        if choice == KEEP_SECOND:
            a, b = b, a
        elif choice == MERGE:
            kept[a] = merge_entries(kept[a], kept[b])
        del kept[b]
        alias[b] = a
    return [kept[i] for i in order if i in kept]


def merge_entries(first: FaqEntry, second: FaqEntry) -> FaqEntry:
    """One entry from two: the first's id, answer and topic; the second's question and paraphrases become paraphrases."""
    paraphrases: dict[str, str] = {}
    for phrasing in (*first.paraphrases, *second.phrasings):
        if phrasing.casefold() != first.question.casefold():
            paraphrases.setdefault(phrasing.casefold(), phrasing)
    return replace(
        first,
        paraphrases=tuple(paraphrases.values()),
        links=tuple(dict.fromkeys((*first.links, *second.links))),
        quick_replies=tuple(dict.fromkeys((*first.quick_replies, *second.quick_replies))),
        teaser=first.teaser or (second.teaser if first.scope == "marketing" else ""),
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    # Embedders promise unit vectors; normalising again keeps a third-party one honest.
    vectors = np.asarray(vectors, dtype=np.float64)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    return unit


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
