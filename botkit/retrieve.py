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
   other entry nearly as close. On the sample knowledge base an entry's own words score
   0.9 and more, users' paraphrases mostly 0.4-0.8 (median 0.55), questions it does not
   cover mostly 0.2-0.4 (median 0.3). Higher always means more confident, and the scale
   is the same for every knowledge base; the escalation threshold that fits one is tuned
   with `botkit tune` (default 0.395, tuned on the sample's tune cases).

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
_SHORTLIST = 400  # entries scored exactly; larger knowledge bases are sketched first
_SKETCH_DIMS = 128


class Retriever:
    """Finds the knowledge entries closest to a question (see the module docstring for the scoring).

    Opening loads every phrasing's vector from the index and whitens it; questions are then
    scored in memory (faster than a vector-store query). Up to 400 entries are scored
    exactly; in larger knowledge bases a 128-dimensional sketch of the entries' mean
    vectors first picks the 400 to score (and the 400 best in the question's language).
    """

    def __init__(self, index: KnowledgeIndex, languages: dict[str, str] | None = None) -> None:
        self._embedder = index.embedder
        self._languages = languages or {}  # entry id -> language
        entry_ids, texts, vectors = index.vectors()
        order = sorted(range(len(entry_ids)), key=lambda row: entry_ids[row])  # one block of rows per entry
        entry_ids = [entry_ids[row] for row in order]
        self._texts = [texts[row] for row in order]
        vectors = vectors[order]
        self._starts = np.array([row for row, e in enumerate(entry_ids) if row == 0 or entry_ids[row - 1] != e], dtype=np.int64)
        self._block = np.repeat(np.arange(len(self._starts)), np.diff(np.r_[self._starts, len(entry_ids)]))
        white = whitening(vectors, self._starts)
        self._whiten = np.ascontiguousarray(white.T)  # applied to each question with `_dot`
        self._rows = vectors @ white
        del vectors  # the raw vectors are not needed any more, and large
        self._rows /= np.linalg.norm(self._rows, axis=1, keepdims=True).clip(min=1e-12)
        self._entries = [entry_ids[row] for row in self._starts]
        self._centroids = _normalise(np.add.reduceat(self._rows, self._starts, axis=0)) if self._entries else self._rows
        self._in_language = {
            lang: np.array([self._languages.get(e) == lang for e in self._entries], dtype=bool)
            for lang in set(self._languages.values())
        }
        # A short sketch of the centroids finds the entries worth scoring exactly: reading all
        # full vectors for every question would cost more memory bandwidth than the embedding.
        axes = _principal_axes(self._centroids, _SKETCH_DIMS)
        self._sketch = np.ascontiguousarray(axes.T)
        self._sketch_centroids = np.ascontiguousarray(self._centroids @ axes)

    def retrieve(self, text: str, lang: str | None = None, limit: int = 5) -> Retrieval:
        """Rank entries for `text`: one `Hit` per entry, best first, at most `limit`."""
        if not self._entries:
            return Retrieval(query=text, hits=(), confidence=0.0, margin=0.0)
        vector = np.asarray(self._embedder.embed([text])[0], dtype=np.float32)
        query = _normalise(_dot(self._whiten, vector)[None, :])[0]
        same = self._in_language.get(lang or "")
        entries = self._shortlist(query, same)
        if len(entries) == len(self._entries):
            rows, starts = np.arange(len(self._rows)), self._starts
            per_row = _dot(self._rows, query)
        else:
            chosen = np.zeros(len(self._entries), dtype=bool)
            chosen[entries] = True
            rows = np.flatnonzero(chosen[self._block])
            starts = np.flatnonzero(np.r_[True, np.diff(self._block[rows]) != 0])
            per_row = _dot(self._rows[rows], query)
        best = np.maximum.reduceat(per_row, starts)
        similarity = (1 - _CENTROID_WEIGHT) * best + _CENTROID_WEIGHT * _dot(self._centroids[entries], query)
        if same is not None and same[entries].any():
            in_lang = same[entries]
            if similarity[in_lang].max() >= similarity.max() - _LANGUAGE_SLACK:
                similarity = np.where(in_lang, similarity, -np.inf)
        order = np.lexsort((entries, -similarity))[: max(limit, _COMPETITORS)]  # best first, ties by id
        order = order[np.isfinite(similarity[order])]
        scores = confidences([float(similarity[i]) for i in order[:_COMPETITORS]])
        ends = np.r_[starts[1:], len(rows)]
        matched = [rows[starts[i] + int(np.argmax(per_row[starts[i] : ends[i]]))] for i in order[:limit]]
        hits = tuple(Hit(self._entries[entries[i]], score, self._texts[row]) for i, score, row in zip(order[:limit], scores, matched))
        confidence = hits[0].score
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        return Retrieval(query=text, hits=hits, confidence=confidence, margin=confidence - runner_up)

    def _shortlist(self, query: np.ndarray, same: np.ndarray | None) -> np.ndarray:
        """Indices (sorted) of the entries to score exactly: all, or the sketch's best overall and in the language."""
        if len(self._entries) <= _SHORTLIST:
            return np.arange(len(self._entries))
        rough = _dot(self._sketch_centroids, _dot(self._sketch, query))
        chosen = np.argpartition(-rough, _SHORTLIST - 1)[:_SHORTLIST]
        if same is not None and same.any():
            in_lang = np.flatnonzero(same)
            if len(in_lang) > _SHORTLIST:
                in_lang = in_lang[np.argpartition(-rough[in_lang], _SHORTLIST - 1)[:_SHORTLIST]]
            chosen = np.union1d(chosen, in_lang)
        return np.sort(chosen)


def confidences(similarities: list[float]) -> list[float]:
    """Confidence in [0, 1] of each entry, given the best entries' similarities sorted best first."""
    if not similarities:
        return []
    s = np.asarray(similarities, dtype=np.float64)
    weights = np.exp((s - s[0]) / _TEMPERATURE)
    share = weights / weights.sum()
    values = _SIMILARITY_WEIGHT * np.clip(s, 0.0, 1.0) + (1 - _SIMILARITY_WEIGHT) * share
    return [float(v) for v in np.clip(values, 0.0, 1.0)]


def whitening(vectors: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The linear map that whitens `vectors` by their within-entry covariance, shrunk towards identity.

    `vectors` come in one block of rows per entry, beginning at `starts`. Shrinkage is
    `max(0.5, d / (d + dof))` with `dof` the number of rows minus the number of entries,
    so few paraphrases mean little change and none mean none.
    """
    dim = vectors.shape[1]
    dof = len(vectors) - len(starts)
    if dof <= 0:
        return np.eye(dim, dtype=np.float32)
    sizes = np.diff(np.r_[starts, len(vectors)])
    sums = np.add.reduceat(vectors, starts, axis=0).astype(np.float64)
    # sum of (x - mean)(x - mean)^T over rows = X^T X - sum over entries of n * mean mean^T
    scatter = (vectors.T @ vectors).astype(np.float64) - (sums.T / sizes) @ sums
    covariance = scatter / dof
    scale = np.trace(covariance) / dim
    if scale <= 0:
        return np.eye(dim, dtype=np.float32)
    shrinkage = max(_MIN_SHRINKAGE, dim / (dim + dof))
    covariance = (1 - shrinkage) * covariance + shrinkage * scale * np.eye(dim)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    whitening: np.ndarray = (eigenvectors * np.sqrt(scale / eigenvalues)).astype(np.float32)
    return whitening


def _principal_axes(rows: np.ndarray, dims: int) -> np.ndarray:
    """The `dims` directions holding most of the rows' energy, as columns."""
    if rows.shape[1] <= dims:
        return np.eye(rows.shape[1], dtype=np.float32)
    _, eigenvectors = np.linalg.eigh((rows.T @ rows).astype(np.float64))  # ascending order
    return np.ascontiguousarray(eigenvectors[:, ::-1][:, :dims]).astype(np.float32)


def _dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """`matrix @ vector` in numpy's own loop: a multi-threaded BLAS woken for one product per
    question costs milliseconds on a busy machine (after the embedder limited it to one thread)."""
    product: np.ndarray = np.einsum("ij,j->i", matrix, vector)
    return product


def _normalise(matrix: np.ndarray) -> np.ndarray:
    unit: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)
    return unit
