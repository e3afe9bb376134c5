"""Embed a knowledge base into a `VectorStore`: incremental (per-entry hash) and atomic (generations)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botkit.errors import IndexMismatchError
from botkit.protocols import Embedder, IndexedText, IndexMetadata, VectorCollection, VectorStore
from botkit.types import FaqEntry

if TYPE_CHECKING:
    import numpy as np

ProgressFn = Callable[[int, int], None]
"""Called as `progress(done, total)` while texts are embedded."""

_BATCH = 256  # larger batches embed faster; still small enough for a moving progress bar


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
    """A published generation of the vector index, read whole by the retriever."""

    def __init__(self, collection: VectorCollection, embedder: Embedder) -> None:
        self._collection = collection
        self.embedder = embedder

    @classmethod
    def open(cls, store: VectorStore, embedder: Embedder) -> KnowledgeIndex:
        """Open the live generation; refuse one built with another embedder."""
        collection = store.current()
        if collection is None:
            raise IndexMismatchError("no index has been built yet; run `botkit build KNOWLEDGE`")
        _check_embedder(collection.metadata, embedder)
        return cls(collection, embedder)

    def vectors(self) -> tuple[list[str], list[str], np.ndarray]:
        """Every stored text as (entry ids, texts, vectors), row by row, for scorers that look at all phrasings."""
        texts, vectors = self._collection.vectors()
        return [t.entry_id for t in texts], [t.text for t in texts], vectors


def build_index(
    entries: Sequence[FaqEntry],
    embedder: Embedder,
    store: VectorStore,
    *,
    rebuild: bool = False,
    with_answers: bool = False,
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Bring the index up to date with `entries`, embedding only new and changed ones.

    The previous generation keeps answering until the new one is complete and published.
    """
    metadata: dict[str, str | bool] = {
        "embedder": embedder.model_id,
        "embedder_version": embedder.version,
        "with_answers": with_answers,
    }
    wanted = {e.id: (e, entry_hash(e, with_answers)) for e in entries}
    with store.lock():
        store.prune()
        current = store.current()
        stored: dict[str, str] = {}
        if current is not None and not rebuild:
            _check_embedder(current.metadata, embedder)
            if bool(current.metadata.get("with_answers")) != with_answers:
                current = None  # a different set of texts: start afresh
            else:
                stored = {t.entry_id: t.hash for t in current.texts()}
        copy = current is not None and not rebuild
        added = [e for i, (e, _) in wanted.items() if i not in stored]
        changed = [e for i, (e, h) in wanted.items() if i in stored and stored[i] != h]
        removed = [i for i in stored if i not in wanted]
        if copy and not (added or changed or removed):
            return BuildReport(len(wanted), 0, 0, 0, 0, None)
        name, collection = store.prepare(copy, metadata)
        stale = removed + [e.id for e in changed]
        if stale:
            collection.delete(stale)
        texts = [
            IndexedText(f"{e.id}#{i}", e.id, text, wanted[e.id][1], e.lang) for e in added + changed for i, text in enumerate(index_texts(e, with_answers))
        ]
        for start in range(0, len(texts), _BATCH):
            batch = texts[start : start + _BATCH]
            collection.add(batch, embedder.embed([t.text for t in batch]))
            if progress:
                progress(min(start + _BATCH, len(texts)), len(texts))
        store.publish(name)
        return BuildReport(len(wanted), len(added), len(changed), len(removed), len(texts), name)


def _check_embedder(metadata: IndexMetadata, embedder: Embedder) -> None:
    built = (metadata.get("embedder"), metadata.get("embedder_version"))
    if built != (embedder.model_id, embedder.version):
        raise IndexMismatchError(
            f"the index was built with embedder {built[0]} {built[1]}, but {embedder.model_id} "
            f"{embedder.version} is configured; rebuild it with `botkit build KNOWLEDGE --rebuild`"
        )
