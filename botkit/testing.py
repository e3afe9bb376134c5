"""Helpers for tests of botkit and of bots built with it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from botkit.protocols import Embedder


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
