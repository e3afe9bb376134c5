"""Question -> ranked entries, one hit per entry, with a confidence in [0, 1].

How an entry is scored (chosen by measurement, see benchmarks/README.md):

1. Every phrasing (question, paraphrase, and the answer when `index_answers` is on) of
   every entry is compared with the question, in memory.
2. Similarity: cosines between the question and each entry's phrasings after
   *whitening* with the knowledge base's within-entry covariance, estimated when the
   retriever opens: directions in which an entry's own phrasings differ from each other
   count less, directions that tell entries apart count more. The covariance is shrunk
   towards the identity (at least half-way, more when entries have few paraphrases), so a
   knowledge base with one question per entry gets plain cosine similarity. An entry's
   similarity `s` is 0.6 x the cosine of its best phrasing + 0.4 x the cosine of the
   mean of its phrasings (so an entry whose phrasings agree with each other wins over
   one that has a single lucky phrasing).
3. Confidence of an entry: `0.5 * s + 0.5 * p`, with `s` clipped to [0, 1] and `p` the
   share the entry gets of a softmax (temperature 0.1) over the ten best entries'
   similarities. High confidence needs both: phrasings close to the question, and no
   other entry nearly as close. About 0.9 and more means the user used an entry's own
   words; clearly-meant entries mostly score 0.5-0.9; questions the knowledge base does
   not cover mostly stay below 0.45. Higher always means more confident, and reading it
   needs no calibration per knowledge base; the escalation threshold is tuned per
   knowledge base with `botkit tune`.

`Retrieval.confidence` is the best entry's confidence, `Retrieval.margin` its lead over
the runner-up's confidence, and every `Hit.score` is that entry's confidence, so the
clarification floor (`confidence - clarify_margin`) is on one scale.

With a language given, entries in that language are preferred when one of them is nearly
as similar as the best entry overall, so a German question gets the German entry rather
than its English twin, and the twins never compete for the softmax or a clarification.
"""

from __future__ import annotations

import numpy as np

from botkit.index import KnowledgeIndex
from botkit.types import Hit, Retrieval

_LANGUAGE_SLACK = 0.15
_MIN_SHRINKAGE = 0.5
_CENTROID_WEIGHT = 0.4
_TEMPERATURE = 0.1
_COMPETITORS = 10  # entries sharing the softmax
_SIMILARITY_WEIGHT = 0.5


class Retriever:
    """Finds the knowledge entries closest to a question (see the module docstring for the scoring).

    Opening loads every phrasing's vector from the index and whitens it; questions are then
    scored in memory against all of them (exact, and faster than a vector-store query).
    """

    def __init__(self, index: KnowledgeIndex, languages: dict[str, str] | None = None) -> None:
        self._embedder = index.embedder
        self._languages = languages or {}  # entry id -> language
        entry_ids, texts, vectors = index.vectors() if index.count() else ([], [], np.zeros((0, 0), np.float32))
        order = sorted(range(len(entry_ids)), key=lambda row: entry_ids[row])  # one block of rows per entry
        entry_ids = [entry_ids[row] for row in order]
        self._texts = [texts[row] for row in order]
        vectors = vectors[order]
        self._whitening = whitening(entry_ids, vectors)
        self._rows = _normalise(vectors @ self._whitening)
        self._starts = np.array([row for row, e in enumerate(entry_ids) if row == 0 or entry_ids[row - 1] != e], dtype=np.int64)
        self._entries = [entry_ids[row] for row in self._starts]
        self._centroids = _normalise(np.add.reduceat(self._rows, self._starts, axis=0)) if self._entries else self._rows
        self._in_language = {
            lang: np.array([self._languages.get(e) == lang for e in self._entries], dtype=bool)
            for lang in set(self._languages.values())
        }

    def retrieve(self, text: str, lang: str | None = None, limit: int = 5) -> Retrieval:
        """Rank entries for `text`: one `Hit` per entry, best first, at most `limit`."""
        if not self._entries:
            return Retrieval(query=text, hits=(), confidence=0.0, margin=0.0)
        vector = np.asarray(self._embedder.embed([text])[0], dtype=np.float32)
        query = _normalise((vector @ self._whitening)[None, :])[0]
        per_row = self._rows @ query
        best = np.maximum.reduceat(per_row, self._starts)
        similarity = (1 - _CENTROID_WEIGHT) * best + _CENTROID_WEIGHT * (self._centroids @ query)
        same = self._in_language.get(lang or "")
        if same is not None and same.any() and similarity[same].max() >= similarity.max() - _LANGUAGE_SLACK:
            similarity = np.where(same, similarity, -np.inf)
        count = min(max(limit, _COMPETITORS), int(np.isfinite(similarity).sum()))
        top = np.argpartition(-similarity, count - 1)[:count]
        top = top[np.lexsort((top, -similarity[top]))]  # best first, ties by entry order
        scores = confidences([float(similarity[i]) for i in top[:_COMPETITORS]])
        hits = tuple(Hit(self._entries[i], score, self._matched(i, per_row)) for i, score in zip(top[:limit], scores))
        confidence = hits[0].score
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        return Retrieval(query=text, hits=hits, confidence=confidence, margin=confidence - runner_up)

    def _matched(self, entry: int, per_row: np.ndarray) -> str:
        start = int(self._starts[entry])
        end = int(self._starts[entry + 1]) if entry + 1 < len(self._starts) else len(per_row)
        return self._texts[start + int(per_row[start:end].argmax())]


def confidences(similarities: list[float]) -> list[float]:
    """Confidence in [0, 1] of each entry, given the best entries' similarities sorted best first."""
    if not similarities:
        return []
    s = np.asarray(similarities, dtype=np.float64)
    weights = np.exp((s - s[0]) / _TEMPERATURE)
    share = weights / weights.sum()
    values = _SIMILARITY_WEIGHT * np.clip(s, 0.0, 1.0) + (1 - _SIMILARITY_WEIGHT) * share
    return [float(v) for v in np.clip(values, 0.0, 1.0)]


def whitening(entry_ids: list[str], vectors: np.ndarray) -> np.ndarray:
    """The linear map that whitens `vectors` by their within-entry covariance, shrunk towards identity.

    Shrinkage is `max(0.5, d / (d + dof))` with `dof` the number of phrasings minus the
    number of entries, so few paraphrases mean little change and none mean none.
    """
    dim = vectors.shape[1]
    entries = sorted(set(entry_ids))
    dof = len(entry_ids) - len(entries)
    if dof <= 0:
        return np.eye(dim, dtype=np.float32)
    position = {e: i for i, e in enumerate(entries)}
    groups = np.array([position[e] for e in entry_ids])
    data = vectors.astype(np.float64)
    means = np.zeros((len(entries), dim))
    np.add.at(means, groups, data)
    means /= np.bincount(groups, minlength=len(entries))[:, None]
    residuals = data - means[groups]
    covariance = residuals.T @ residuals / dof
    scale = np.trace(covariance) / dim
    if scale <= 0:
        return np.eye(dim, dtype=np.float32)
    shrinkage = max(_MIN_SHRINKAGE, dim / (dim + dof))
    covariance = (1 - shrinkage) * covariance + shrinkage * scale * np.eye(dim)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    return (eigenvectors * np.sqrt(scale / eigenvalues)).astype(np.float32)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)
