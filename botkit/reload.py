"""A running bot picks up an edited knowledge base: re-validated, only changed entries embedded.

`KnowledgeSource.refresh` loads and validates the knowledge files again, embeds only the
texts of new and changed entries, and updates the retriever incrementally
(`Retriever.updated`); `Bot.reload` swaps the result in at once, so a reply sees the old or
the new knowledge, never a mix. Then the on-disk index is brought up to date with the same
vectors (nothing is embedded twice), so the next start finds it current. Knowledge with
errors raises `KnowledgeError` and the bot keeps answering from what it had.

`Watcher` polls the files' modification times and reloads when they change (the
`reload_seconds` setting); it logs a refused reload and tries again after the next edit.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from botkit.errors import KnowledgeError
from botkit.index import build_index, index_texts
from botkit.knowledge import KnowledgeBase, client_file, knowledge_files, load_knowledge
from botkit.protocols import Embedder, VectorStore
from botkit.retrieve import Retriever

log = logging.getLogger(__name__)

_BATCH = 256
Stamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class ReloadReport:
    """What a reload did; `seconds` is the time until the new knowledge answered."""

    added: int
    changed: int
    removed: int
    embedded_texts: int
    seconds: float
    index_seconds: float  # bringing the on-disk index up to date afterwards

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed)


class KnowledgeSource:
    """The knowledge files a bot was opened from, and how to turn edits to them into a new retriever."""

    def __init__(self, path: Path, embedder: Embedder, store: VectorStore, *, with_answers: bool, max_bytes: int) -> None:
        self.path = path
        self._embedder = embedder
        self._store = store
        self._with_answers = with_answers
        self._max_bytes = max_bytes
        self._stamp = self.stamp()  # taken before the knowledge is loaded: an edit meanwhile is reloaded

    def stamp(self) -> Stamp:
        """Name, modification time and size of every knowledge file (and `botkit.yaml`)."""
        client = client_file(self.path)
        files = [*knowledge_files(self.path), *([client] if client else [])]
        found = []
        for file in files:
            try:
                info = file.stat()
            except FileNotFoundError:  # deleted while looking
                continue
            found.append((str(file), info.st_mtime_ns, info.st_size))
        return tuple(found)

    def changed(self) -> bool:
        """Have the files changed since the knowledge was last loaded?"""
        return self.stamp() != self._stamp

    def refresh(self, knowledge: KnowledgeBase, retriever: Retriever, swap: Callable[[KnowledgeBase, Retriever], None]) -> ReloadReport:
        """Load the files again and `swap` in the new knowledge and retriever, then update the index.

        Raises:
            KnowledgeError: the files have errors; nothing is swapped.
        """
        started = time.perf_counter()
        collecting = gc.isenabled()
        gc.disable()  # a full collection of a large bot's heap can take longer than the reload: it runs after the swap
        try:
            stamp = self.stamp()
            try:
                fresh = load_knowledge(self.path, max_bytes=self._max_bytes)
            finally:
                self._stamp = stamp  # a refused edit is not retried until the files change again
            before = {e.id: (e.lang, index_texts(e, self._with_answers)) for e in knowledge.entries}
            after = {e.id: (e.lang, index_texts(e, self._with_answers)) for e in fresh.entries}
            changed = [i for i, v in after.items() if before.get(i) != v]
            removed = [i for i in before if i not in after]
            texts = [t for i in changed for t in after[i][1]]
            vectors = _embed(self._embedder, texts)
            if not (changed or removed):  # e.g. a file saved unchanged: the index on disk is current too
                swap(fresh, retriever)
                return ReloadReport(0, 0, 0, 0, time.perf_counter() - started, 0.0)
            parts, start = {}, 0
            for entry_id in changed:
                count = len(after[entry_id][1])
                parts[entry_id] = (after[entry_id][1], vectors[start : start + count])
                start += count
            swap(fresh, retriever.updated(parts, removed, {e.id: e.lang for e in fresh.entries}))
        finally:
            if collecting:
                gc.enable()
        answering = time.perf_counter() - started
        build_index(fresh.entries, _Known(self._embedder, texts, vectors), self._store, with_answers=self._with_answers)
        added = sum(i not in before for i in changed)
        return ReloadReport(added, len(changed) - added, len(removed), len(texts), answering, time.perf_counter() - started - answering)


class Watcher:
    """Calls `reload` whenever `source` changed, every `interval` seconds, in a daemon thread until `stop`."""

    def __init__(self, source: KnowledgeSource, reload: Callable[[], ReloadReport], interval: float) -> None:
        self._source = source
        self._reload = reload
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="botkit-knowledge-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (waits for a reload in progress)."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            if not self._source.changed():
                continue
            try:
                report = self._reload()
            except KnowledgeError as exc:
                log.error("knowledge in %s not reloaded, the bot keeps the previous version:\n%s", self._source.path, exc)
            except Exception:  # a running bot keeps answering whatever went wrong with one reload
                log.exception("reloading the knowledge in %s failed", self._source.path)
            else:
                log.info("knowledge reloaded: %s", report)


class _Known:
    """The embedder, except that texts embedded just now are answered from their vectors."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.model_id, self.version = embedder.model_id, embedder.version
        self._embedder = embedder
        self._vectors = dict(zip(texts, vectors, strict=True))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, _embed(self._embedder, missing), strict=True))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def _embed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    parts = [np.asarray(embedder.embed(texts[i : i + _BATCH]), dtype=np.float32) for i in range(0, len(texts), _BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
