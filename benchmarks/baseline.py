"""The baseline the benchmarks compare with: botkit's first retriever, plain max-cosine nearest neighbour.

Same API as `botkit.retrieve.Retriever`; confidence = cosine of the closest phrasing (exact search in memory).
Kept only so every benchmark run shows the chosen method beside it.
"""

from __future__ import annotations

import numpy as np

from botkit.index import KnowledgeIndex
from botkit.types import Hit, Retrieval

_PHRASINGS_PER_QUERY = 40
_LANGUAGE_SLACK = 0.15


class NearestNeighbour:
    """Entries ranked by the cosine similarity of their closest phrasing."""

    def __init__(self, index: KnowledgeIndex, languages: dict[str, str] | None = None) -> None:
        self._embedder = index.embedder
        self._entry_ids, self._texts, self._vectors = index.vectors()
        self._languages = languages or {}

    def retrieve(self, text: str, lang: str | None = None, limit: int = 5) -> Retrieval:
        vector = np.asarray(self._embedder.embed([text])[0], dtype=np.float32)
        cosines = self._vectors @ vector  # the stored vectors are L2-normalised
        best: dict[str, Hit] = {}
        for row in np.argsort(-cosines, kind="stable")[:_PHRASINGS_PER_QUERY]:
            entry_id, phrasing, similarity = self._entry_ids[row], self._texts[row], float(cosines[row])
            if entry_id not in best:
                best[entry_id] = Hit(entry_id, min(1.0, max(0.0, similarity)), phrasing)
        hits = sorted(best.values(), key=lambda h: (-h.score, h.entry_id))
        if lang is not None and hits:
            same = [h for h in hits if self._languages.get(h.entry_id) == lang]
            if same and same[0].score >= hits[0].score - _LANGUAGE_SLACK:
                hits = same
        hits = hits[:limit]
        confidence = hits[0].score if hits else 0.0
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        return Retrieval(query=text, hits=tuple(hits), confidence=confidence, margin=confidence - runner_up)
