"""Helpers for tests of botkit and of bots built with it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from botkit.protocols import Embedder


class FakeEmbedder:
    """A deterministic, instant embedder for tests that need a working bot, not good retrieval.

    A text becomes the L2-normalised counts of its lower-cased character 3-grams, hashed into
    `dimensions` buckets: texts sharing many letters are close, a text is closest to itself,
    and nothing is loaded. Paraphrases with other words are not recognised: tests of retrieval
    quality use the real embedder.
    """

    model_id = "botkit-fake-char-ngrams"

    def __init__(self, dimensions: int = 256) -> None:
        self.dimensions = dimensions
        self.version = f"1-{dimensions}d"  # an index built with other dimensions is refused

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = " " + " ".join(text.lower().split()) + " "
            for start in range(max(1, len(padded) - 2)):
                vectors[row, _bucket(padded[start : start + 3], self.dimensions)] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


@lru_cache(maxsize=65536)
def _bucket(gram: str, dimensions: int) -> int:
    # a stable hash: Python's hash() of a str changes from process to process
    return int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "big") % dimensions


class CountingEmbedder:
    """Wraps a real embedder and counts the texts it embedded (to check incremental builds)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.version = inner.version
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self._inner.embed(texts)


class RenamedEmbedder(CountingEmbedder):
    """The same vectors under another model id: stands in for a different embedder."""

    def __init__(self, inner: Embedder, model_id: str) -> None:
        super().__init__(inner)
        self.model_id = model_id


class ManualClock:
    """A clock the test moves forward, for pauses and timestamps."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
