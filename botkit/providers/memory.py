"""A `VectorStore` in memory: for tests and throw-away bots, lost when the process ends."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from botkit.protocols import IndexedText, IndexMetadata


class MemoryCollection:
    """One generation held in a dict of text id -> (text, vector)."""

    def __init__(self, metadata: IndexMetadata, rows: dict[str, tuple[IndexedText, np.ndarray]] | None = None) -> None:
        self._metadata = dict(metadata)
        self._rows = dict(rows or {})

    @property
    def metadata(self) -> IndexMetadata:
        return dict(self._metadata)

    def add(self, texts: Sequence[IndexedText], vectors: np.ndarray) -> None:
        for text, vector in zip(texts, np.asarray(vectors, dtype=np.float32), strict=True):
            self._rows[text.id] = (text, vector)

    def delete(self, entry_ids: Sequence[str]) -> None:
        gone = set(entry_ids)
        self._rows = {key: row for key, row in self._rows.items() if row[0].entry_id not in gone}

    def texts(self) -> list[IndexedText]:
        return [text for text, _ in self._rows.values()]

    def vectors(self) -> tuple[list[IndexedText], np.ndarray]:
        if not self._rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return self.texts(), np.stack([vector for _, vector in self._rows.values()])

    def copy(self) -> MemoryCollection:
        return MemoryCollection(self._metadata, self._rows)


class MemoryStore:
    """Generations in memory, published by swapping a name."""

    def __init__(self) -> None:
        self._generations: dict[str, MemoryCollection] = {}
        self._live: str | None = None
        self._built = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            yield

    def current(self) -> MemoryCollection | None:
        return self._generations[self._live] if self._live else None

    def prepare(self, copy_current: bool, metadata: IndexMetadata) -> tuple[str, MemoryCollection]:
        self._built += 1
        name = f"gen-{self._built:06d}"
        live = self.current()
        self._generations[name] = live.copy() if copy_current and live else MemoryCollection(metadata)
        return name, self._generations[name]

    def publish(self, name: str) -> None:
        self._live = name

    def prune(self) -> None:
        self._generations = {name: c for name, c in self._generations.items() if name == self._live}
