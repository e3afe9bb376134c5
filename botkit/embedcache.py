"""Embed a message once per reply: a small, thread-safe cache in front of an embedder.

A reply looks at one message several times (consent, small talk, retrieval, a second look
at small talk); with the intent matcher and the retriever on the same `EmbeddingCache`, the
message is embedded once and its vector shared. Large batches (a build) pass straight through.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from botkit.protocols import Embedder

SIZE = 256  # texts remembered
PASS_THROUGH = 16  # calls with more texts than this (builds) are not cached


class EmbeddingCache:
    """An `Embedder` that remembers the vectors of the last `size` texts it embedded."""

    def __init__(self, embedder: Embedder, size: int = SIZE) -> None:
        self.inner = embedder
        self.model_id = embedder.model_id
        self.version = embedder.version
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' vectors; only texts not remembered are embedded, in one call."""
        if len(texts) > PASS_THROUGH:
            return np.asarray(self.inner.embed(texts), dtype=np.float32)
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found.update(zip(missing, np.asarray(self.inner.embed(missing), dtype=np.float32), strict=True))
        with self._lock:
            for text, vector in found.items():
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)
