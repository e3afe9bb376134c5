"""Question -> ranked entries with a confidence in [0, 1].

Confidence is the cosine similarity between the question and the closest phrasing
(question or paraphrase) of the best entry, clipped to [0, 1]: 1 means the user asked
with the very words of a phrasing, around 0.8 a close paraphrase, below ~0.5 something
the knowledge base does not cover. Higher always means more confident. The margin is the
same measure's gap to the runner-up entry, used to decide when to ask which one is meant.

With a language given, entries in that language are preferred when one of them is nearly
as close as the best entry overall, so a German question gets the German entry rather
than its English twin, and the two twins never compete in a clarification.
"""

from __future__ import annotations

from botkit.index import KnowledgeIndex
from botkit.types import Hit, Retrieval

_PHRASINGS_PER_QUERY = 40
_LANGUAGE_SLACK = 0.15


class Retriever:
    """Finds the knowledge entries closest to a question."""

    def __init__(self, index: KnowledgeIndex, languages: dict[str, str] | None = None) -> None:
        self._index = index
        self._languages = languages or {}  # entry id -> language

    def retrieve(self, text: str, lang: str | None = None, limit: int = 5) -> Retrieval:
        """Rank entries for `text`: one `Hit` per entry, best first, at most `limit`."""
        vector = self._index.embedder.embed([text])[0]
        best: dict[str, Hit] = {}
        for entry_id, phrasing, similarity in self._index.search(vector, _PHRASINGS_PER_QUERY):
            if entry_id not in best or similarity > best[entry_id].score:
                best[entry_id] = Hit(entry_id, similarity, phrasing)
        hits = sorted(best.values(), key=lambda h: (-h.score, h.entry_id))
        if lang is not None and hits:
            same = [h for h in hits if self._languages.get(h.entry_id) == lang]
            if same and same[0].score >= hits[0].score - _LANGUAGE_SLACK:
                hits = same
        hits = hits[:limit]
        confidence = _confidence(hits[0].score) if hits else 0.0
        runner_up = _confidence(hits[1].score) if len(hits) > 1 else 0.0
        return Retrieval(query=text, hits=tuple(hits), confidence=confidence, margin=confidence - runner_up)


def _confidence(similarity: float) -> float:
    return min(1.0, max(0.0, similarity))
