"""Near-duplicate and conflicting FAQ entries: similar questions, same or different answers.

Two entries whose phrasings mean nearly the same compete for the same user questions: the
bot then asks which one is meant, or answers from either at random. With the same answer
they are duplicates (merge them); with different answers they conflict (the client has to
say which answer is right). Only entries of the same language are compared, because an
entry and its translation are meant to be similar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from botkit.protocols import Embedder
from botkit.types import FaqEntry

DUPLICATE = "duplicate"
CONFLICT = "conflict"


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


def _unit(vectors: np.ndarray) -> np.ndarray:
    # Embedders promise unit vectors; normalising again keeps a third-party one honest.
    vectors = np.asarray(vectors, dtype=np.float64)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    return unit


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
