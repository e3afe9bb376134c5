"""Embed a knowledge base into Chroma: incremental (per-entry hash) and atomic (generations)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from botkit.errors import IndexMismatchError
from botkit.protocols import Embedder
from botkit.providers.chroma import Generations
from botkit.types import FaqEntry

ProgressFn = Callable[[int, int], None]
"""Called as `progress(done, total)` while texts are embedded."""

_BATCH = 256  # larger batches embed faster; still small enough for a moving progress bar
_READ_BATCH = 2000


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    entries: int
    added: int
    changed: int
    removed: int
    embedded_texts: int
    generation: str | None  # None when nothing changed and no new generation was written

    @property
    def embedded_entries(self) -> int:
        return self.added + self.changed


def index_texts(entry: FaqEntry, with_answers: bool = False) -> list[str]:
    """The texts of an entry that are embedded: its question, paraphrases and optionally answer."""
    return [*entry.phrasings, *([entry.answer] if with_answers else [])]


def entry_hash(entry: FaqEntry, with_answers: bool = False) -> str:
    """Hash of exactly what is embedded for an entry, so unchanged entries are skipped."""
    data = json.dumps([entry.lang, index_texts(entry, with_answers)], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class KnowledgeIndex:
    """A published generation of the vector index, queried by vector."""

    def __init__(self, collection: Any, embedder: Embedder) -> None:
        self._collection = collection
        self.embedder = embedder

    @classmethod
    def open(cls, generations: Generations, embedder: Embedder) -> KnowledgeIndex:
        """Open the live generation; refuse one built with another embedder."""
        collection = generations.current()
        if collection is None:
            raise IndexMismatchError("no index has been built yet; run `botkit build KNOWLEDGE`")
        _check_embedder(collection.metadata or {}, embedder)
        return cls(collection, embedder)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, str, float]]:
        """The `k` nearest phrasings as (entry id, phrasing, cosine similarity), best first."""
        k = max(1, min(k, self.count()))
        rows = self._collection.query(
            query_embeddings=[vector.tolist()], n_results=k, include=["metadatas", "documents", "distances"]
        )
        return [
            (meta["entry_id"], doc, 1.0 - float(dist))
            for meta, doc, dist in zip(rows["metadatas"][0], rows["documents"][0], rows["distances"][0])
        ]

    def count(self) -> int:
        return int(self._collection.count())

    def vectors(self) -> tuple[list[str], list[str], np.ndarray]:
        """Every stored text as (entry ids, texts, vectors), row by row, for scorers that look at all phrasings."""
        ids: list[str] = []
        texts: list[str] = []
        parts: list[np.ndarray] = []
        for offset in range(0, self.count(), _READ_BATCH):  # in batches: Chroma hands out Python floats
            rows = self._collection.get(include=["embeddings", "metadatas", "documents"], limit=_READ_BATCH, offset=offset)
            ids += [m["entry_id"] for m in rows["metadatas"]]
            texts += rows["documents"]
            parts.append(np.asarray(rows["embeddings"], dtype=np.float32).reshape(len(rows["ids"]), -1))
        return ids, texts, np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def build_index(
    entries: Sequence[FaqEntry],
    embedder: Embedder,
    generations: Generations,
    *,
    rebuild: bool = False,
    with_answers: bool = False,
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Bring the index up to date with `entries`, embedding only new and changed ones.

    The previous generation keeps answering until the new one is complete and published.
    """
    metadata = {"embedder": embedder.model_id, "embedder_version": embedder.version, "with_answers": with_answers}
    wanted = {e.id: (e, entry_hash(e, with_answers)) for e in entries}
    with generations.lock():
        generations.prune()
        current = generations.current()
        stored: dict[str, str] = {}
        if current is not None and not rebuild:
            current_meta = current.metadata or {}
            _check_embedder(current_meta, embedder)
            if bool(current_meta.get("with_answers")) != with_answers:
                current = None  # a different set of texts: start afresh
            else:
                stored = _stored_hashes(current)
        copy = current is not None and not rebuild
        added = [e for i, (e, _) in wanted.items() if i not in stored]
        changed = [e for i, (e, h) in wanted.items() if i in stored and stored[i] != h]
        removed = [i for i in stored if i not in wanted]
        if copy and not (added or changed or removed):
            return BuildReport(len(wanted), 0, 0, 0, 0, None)
        name, collection = generations.prepare(copy, metadata)
        stale = removed + [e.id for e in changed]
        if stale:
            collection.delete(where={"entry_id": {"$in": stale}})
        todo = added + changed
        texts = [(e, i, t) for e in todo for i, t in enumerate(index_texts(e, with_answers))]
        for start in range(0, len(texts), _BATCH):
            batch = texts[start : start + _BATCH]
            vectors = embedder.embed([t for _, _, t in batch])
            collection.add(
                ids=[f"{e.id}#{i}" for e, i, _ in batch],
                embeddings=vectors.tolist(),
                documents=[t for _, _, t in batch],
                metadatas=[{"entry_id": e.id, "hash": wanted[e.id][1], "lang": e.lang} for e, _, _ in batch],
            )
            if progress:
                progress(min(start + _BATCH, len(texts)), len(texts))
        generations.publish(name)
        return BuildReport(len(wanted), len(added), len(changed), len(removed), len(texts), name)


def _stored_hashes(collection: Any) -> dict[str, str]:
    rows = collection.get(include=["metadatas"])
    return {m["entry_id"]: m["hash"] for m in rows["metadatas"]}


def _check_embedder(metadata: dict[str, Any], embedder: Embedder) -> None:
    built = (metadata.get("embedder"), metadata.get("embedder_version"))
    if built != (embedder.model_id, embedder.version):
        raise IndexMismatchError(
            f"the index was built with embedder {built[0]} {built[1]}, but {embedder.model_id} "
            f"{embedder.version} is configured; rebuild it with `botkit build KNOWLEDGE --rebuild`"
        )
