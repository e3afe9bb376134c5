"""Question -> ranked entries, one hit per entry, with a confidence in [0, 1].

How an entry is scored (chosen by measurement, see benchmarks/README.md):

1. Similarity: cosines between the question and the entry's phrasings (question,
   paraphrases, and the answer when `index_answers` is on) after *whitening* with the
   knowledge base's within-entry covariance, estimated when the retriever opens: directions
   in which an entry's own phrasings differ from each other count less, directions that
   tell entries apart count more. The covariance is shrunk towards the identity (at least
   half-way, more when entries have few paraphrases), so a knowledge base with one question
   per entry gets plain cosine similarity. An entry's similarity is 0.6 x the cosine of its
   best phrasing + 0.4 x the cosine of the mean of its phrasings.
2. Lexical similarity: the best character n-gram TF-IDF cosine among the entry's
   phrasings (`botkit.scoring.tfidf`), which catches product names, numbers and typos.
3. A softmax regression over the whitened phrasing vectors, one class per entry
   (`botkit.scoring.softmax`), when the knowledge base has at most `REGRESSION_LIMIT`
   phrasings x entries (fitting costs grow with both); it learns which directions tell
   this knowledge base's entries apart. After a change it is refitted in the background,
   warm-started, while the previous model answers (`botkit.scoring.refit`).
4. Fusion (`botkit.scoring.fused`): per entry `S = logit + (0.5 similarity + 0.5 tfidf) / 0.1`,
   above the limit `S = (similarity + 0.25 tfidf) / 0.1`; confidence of the best entry =
   `S + 8 log softmax(S)` squashed to [0, 1] by a fixed logistic (high needs both a high
   score and no other entry close to it); the other entries' scores get the same
   competition term, so a runner-up close in score stays close in confidence. The escalation threshold that fits a
   knowledge base is tuned with `botkit tune`; the default is calibrated across several
   knowledge bases (benchmarks/README.md).

`Retrieval.confidence` is the best entry's confidence, `Retrieval.margin` its lead over
the runner-up's confidence, and every `Hit.score` is that entry's confidence, so the
clarification floor (`confidence - clarify_margin`) is on one scale.

With a language given, entries in that language are preferred when one of them is nearly
as similar as the best entry overall, so a German question gets the German entry rather
than its English twin, and the twins never compete for the softmax or a clarification.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from botkit.blas import one_thread
from botkit.index import KnowledgeIndex
from botkit.protocols import Embedder
from botkit.scoring import fused
from botkit.scoring.refit import Fitter
from botkit.scoring.tfidf import CharTfidf
from botkit.textform import embedding_form
from botkit.types import Hit, Retrieval

_LANGUAGE_SLACK = 0.15
_MIN_SHRINKAGE = 0.5
_CENTROID_WEIGHT = 0.4
_SHORTLIST = 400  # entries scored exactly; larger knowledge bases are sketched first
_SKETCH_DIMS = 128
REGRESSION_LIMIT = 1_000_000  # phrasings x entries up to which a softmax regression is fitted (measured build time)


class Retriever:
    """Finds the knowledge entries closest to a question (see the module docstring for the scoring).

    Opening loads every phrasing's vector from the index, whitens it, builds the TF-IDF
    postings and (small enough knowledge bases) fits the regression; questions are then
    scored in memory. Up to 400 entries are scored exactly; in larger knowledge bases a
    128-dimensional sketch of the entries' mean vectors first picks the 400 to score (and
    the 400 best in the question's language). `regression=False` leaves the regression out.
    """

    @one_thread
    def __init__(self, index: KnowledgeIndex, languages: dict[str, str] | None = None, *, regression: bool | None = None) -> None:
        self._embedder = index.embedder
        self._regression = regression
        entry_ids, texts, vectors = index.vectors()
        order = sorted(range(len(entry_ids)), key=lambda row: (entry_ids[row], texts[row]))  # one block per entry, any store's order
        entry_ids = [entry_ids[row] for row in order]
        texts = [texts[row] for row in order]
        vectors = vectors[order]
        white = whitening(vectors, _starts(entry_ids))
        self._whiten = np.ascontiguousarray(white.T)  # applied to each question with `_dot`
        rows = vectors @ white
        del vectors  # the raw vectors are not needed any more, and large
        rows /= np.linalg.norm(rows, axis=1, keepdims=True).clip(min=1e-12)
        starts = _starts(entry_ids)
        block = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(entry_ids)]))
        centroids = _normalise(np.add.reduceat(rows, starts, axis=0)) if len(starts) else rows
        self._setup([entry_ids[row] for row in starts], np.array(texts, dtype=object), rows, block, centroids, languages or {}, CharTfidf(texts))
        # A short sketch of the centroids finds the entries worth scoring exactly: reading all
        # full vectors for every question would cost more memory bandwidth than the embedding.
        axes = _principal_axes(self._centroids, _SKETCH_DIMS)
        self._sketch = np.ascontiguousarray(axes.T)
        self._sketch_centroids = np.ascontiguousarray(self._centroids @ axes)

    def _setup(
        self, entries: list[str], texts: np.ndarray, rows: np.ndarray, block: np.ndarray, centroids: np.ndarray, languages: dict[str, str], tfidf: CharTfidf
    ) -> None:
        """Everything but the whitening and the sketch: `rows` (whitened) come in one block per
        entry, `block` is each row's entry, `centroids` each entry's normalised mean row."""
        self._entries = entries
        self._texts = texts  # one per row (an object array)
        self._rows = rows
        self._block = block
        self._starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]]) if len(block) else np.zeros(0, dtype=np.int64)
        self._centroids = centroids
        self._in_language = {lang: np.array([languages.get(e) == lang for e in entries], dtype=bool) for lang in set(languages.values())}
        self._tfidf = tfidf
        regression = self._regression
        if regression is None:
            regression = 2 <= len(entries) and len(rows) * len(entries) <= REGRESSION_LIMIT
        self._fitter = Fitter(rows, block, entries) if regression and len(entries) >= 2 else None
        self._weights = fused.WITH_REGRESSION if self._fitter is not None else fused.WITHOUT_REGRESSION

    @property
    def embedder(self) -> Embedder:
        """The embedder questions are embedded with (the index's)."""
        return self._embedder

    @one_thread
    def updated(self, changed: Mapping[str, tuple[Sequence[str], np.ndarray]], removed: Iterable[str], languages: dict[str, str]) -> Retriever:
        """A new retriever with the phrasings of the `changed` entries replaced or added and the
        `removed` entries gone; this one keeps answering unchanged.

        `changed` maps an entry id to its texts and their raw (unwhitened) vectors; `languages`
        is the new entry id -> language map. The whitening and the sketch axes are kept (one
        entry barely moves them; opening a new Retriever estimates them afresh), the TF-IDF
        statistics are recomputed exactly, and the regression (when there is one) answers with
        the earlier model while it is refitted in the background (`botkit.scoring.refit`).
        """
        gone = set(removed) | set(changed)
        kept = np.array([e not in gone for e in self._entries], dtype=bool)
        kept_ids = [e for e, keep in zip(self._entries, kept, strict=True) if keep]
        added_ids = sorted(changed)
        entries = sorted(kept_ids + added_ids)
        position = {e: i for i, e in enumerate(entries)}
        moved = np.full(len(self._entries), -1, dtype=np.int64)  # old entry -> new entry
        moved[kept] = [position[e] for e in kept_ids]
        kept_rows = np.flatnonzero(kept[self._block])
        before = np.r_[0, np.cumsum(np.bincount(self._block[kept_rows], minlength=len(self._entries))[kept])]  # kept rows ahead of each kept entry
        at: list[int] = []
        new_texts: list[str] = []
        new_blocks: list[int] = []
        new_vectors = [np.zeros((0, self._whiten.shape[1]), dtype=np.float32)]
        for entry_id in added_ids:
            texts, vectors = changed[entry_id]
            order = sorted(range(len(texts)), key=texts.__getitem__)
            at += [int(before[bisect.bisect_left(kept_ids, entry_id)])] * len(order)
            new_texts += [texts[i] for i in order]
            new_blocks += [position[entry_id]] * len(order)
            new_vectors.append(np.asarray(vectors, dtype=np.float32)[order])
        added = np.concatenate(new_vectors) @ self._whiten.T
        added /= np.linalg.norm(added, axis=1, keepdims=True).clip(min=1e-12)
        source = np.insert(kept_rows, at, -1)  # old row per new row, -1 for a new phrasing
        fresh = source < 0
        rows = np.empty((len(source), self._rows.shape[1]), dtype=np.float32)
        rows[~fresh] = self._rows[kept_rows]
        rows[fresh] = added
        centroids = np.empty((len(entries), self._rows.shape[1]), dtype=np.float32)
        centroids[moved[kept]] = self._centroids[kept]
        sketch = np.empty((len(entries), self._sketch.shape[0]), dtype=np.float32)
        sketch[moved[kept]] = self._sketch_centroids[kept]
        if added_ids:
            firsts = np.flatnonzero(np.r_[True, np.diff(new_blocks) != 0])
            centroids[[new_blocks[i] for i in firsts]] = _normalise(np.add.reduceat(added, firsts, axis=0))
            sketch[[new_blocks[i] for i in firsts]] = centroids[[new_blocks[i] for i in firsts]] @ self._sketch.T
        new = Retriever.__new__(Retriever)
        new._embedder, new._regression, new._whiten, new._sketch, new._sketch_centroids = self._embedder, self._regression, self._whiten, self._sketch, sketch
        new._setup(
            entries,
            np.insert(self._texts[kept_rows], at, np.array(new_texts, dtype=object)),
            rows,
            np.insert(moved[self._block[kept_rows]], at, new_blocks),
            centroids,
            dict(languages),
            self._tfidf.replaced(source, new_texts),
        )
        return new

    @property
    def fitter(self) -> Fitter | None:
        """The regression's fitter (None without a regression): `fitter.wait()` waits for a background refit."""
        return self._fitter

    def retrieve(self, text: str, lang: str | None = None, limit: int = 5) -> Retrieval:
        """Rank entries for `text`: one `Hit` per entry, best first, at most `limit`.

        The question is embedded in `botkit.textform.embedding_form`, the intent matcher's form,
        so a reply embeds its message once; the lexical scores read it as given.
        """
        if not self._entries:
            return Retrieval(query=text, hits=(), confidence=0.0, margin=0.0)
        vector = np.asarray(self._embedder.embed([embedding_form(text)])[0], dtype=np.float32)
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
        lexical = np.maximum.reduceat(self._tfidf.similarities(text)[rows], starts)
        logits = None if self._fitter is None else self._fitter.model.logits(query)[entries]
        score = fused.scores(self._weights, similarity, lexical, logits)
        if same is not None and same[entries].any():
            in_lang = same[entries]
            if similarity[in_lang].max() >= similarity.max() - _LANGUAGE_SLACK:
                score = np.where(in_lang, score, -np.inf)
        competing = np.isfinite(score)
        confidence = np.zeros(len(score))
        confidence[competing] = fused.confidences(score[competing])
        order = np.lexsort((entries, -score))[:limit]  # best first, ties by id
        order = order[competing[order]]
        ends = np.r_[starts[1:], len(rows)]
        matched = [rows[starts[i] + int(np.argmax(per_row[starts[i] : ends[i]]))] for i in order]
        hits = tuple(Hit(self._entries[entries[i]], float(confidence[i]), self._texts[row]) for i, row in zip(order, matched))
        top = hits[0].score
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        return Retrieval(query=text, hits=hits, confidence=top, margin=top - runner_up)

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


def _starts(entry_ids: Sequence[str]) -> np.ndarray:
    """The first row of each entry's block."""
    return np.array([row for row, e in enumerate(entry_ids) if row == 0 or entry_ids[row - 1] != e], dtype=np.int64)


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
    white: np.ndarray = (eigenvectors * np.sqrt(scale / eigenvalues)).astype(np.float32)
    return white


def _principal_axes(rows: np.ndarray, dims: int) -> np.ndarray:
    """The `dims` directions holding most of the rows' energy, as columns."""
    if rows.shape[1] <= dims:
        return np.eye(rows.shape[1], dtype=np.float32)
    _, eigenvectors = np.linalg.eigh((rows.T @ rows).astype(np.float64))  # ascending order
    axes: np.ndarray = np.ascontiguousarray(eigenvectors[:, ::-1][:, :dims]).astype(np.float32)
    return axes


def _dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """`matrix @ vector` in numpy's own loop: a multi-threaded BLAS woken for one product per
    question costs milliseconds on a busy machine (after the embedder limited it to one thread)."""
    product: np.ndarray = np.einsum("ij,j->i", matrix, vector)
    return product


def _normalise(matrix: np.ndarray) -> np.ndarray:
    normalised: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)
    return normalised
