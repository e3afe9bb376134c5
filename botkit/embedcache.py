"""Embed a text once: per reply in memory (`EmbeddingCache`), and across processes on disk (`embed_once`).

A reply looks at one message several times (consent, small talk, retrieval, a second look
at small talk); with the intent matcher and the retriever on the same `EmbeddingCache`, the
message is embedded once and its vector shared. Large batches (a build) pass straight through.

Every process that opens a bot embeds the intent matcher's ~900 example texts (about 0.5 s of
CPU); `embed_once` keeps such a fixed batch's vectors in a file beside the index, so the next
process (a worker, a server, a notebook kernel) reads them instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

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


def embed_once(embedder: Embedder, texts: Sequence[str], folder: Path, name: str) -> np.ndarray:
    """`embedder.embed(texts)` in one call, kept in `folder` as `<name>-<key>.npy` for the next process.

    The key is a SHA-256 of the embedder's `model_id` and `version` and of the texts in order, so
    another model, version or text embeds afresh; the file of an earlier key is then replaced. A
    missing, unreadable or unwritable file (or `folder`: it is not created) costs only the
    embedding: the vectors are the same.
    """
    key = hashlib.sha256(json.dumps([embedder.model_id, embedder.version, list(texts)], ensure_ascii=False).encode("utf-8")).hexdigest()[:32]
    path = folder / f"{name}-{key}.npy"
    with contextlib.suppress(OSError, ValueError):
        stored: np.ndarray = np.load(path, allow_pickle=False)
        if stored.dtype == np.float32 and stored.ndim == 2 and len(stored) == len(texts):
            return stored
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    with contextlib.suppress(OSError):
        _write(path, vectors)
        for old in folder.glob(f"{name}-*.npy"):
            if old != path:
                old.unlink(missing_ok=True)
    return vectors


def _write(path: Path, vectors: np.ndarray) -> None:
    """Write `vectors` to `path` whole or not at all: a reader never sees half a file."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp", delete=False)
    try:
        with handle:
            np.save(handle, vectors, allow_pickle=False)
        os.chmod(handle.name, 0o644)  # as any other file of the index, not private to its writer
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
