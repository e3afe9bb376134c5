"""The small seams where vendors plug in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from botkit.types import Draft, FaqEntry, Handover

if TYPE_CHECKING:  # numpy is heavy to import and only named in signatures here
    import numpy as np

IndexMetadata = Mapping[str, str | int | float | bool]
"""What an index generation records about how it was built (embedder, version, with_answers)."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `model_id`/`version` are recorded in the index."""

    model_id: str
    version: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class IndexedText:
    """One embedded text of a knowledge entry, as a vector store keeps it beside its vector."""

    id: str  # "<entry id>#<n>"
    entry_id: str
    text: str
    hash: str  # `botkit.index.entry_hash` of the entry, so unchanged entries are skipped
    lang: str


class VectorCollection(Protocol):
    """One generation of the index: a vector per embedded text, read back whole."""

    @property
    def metadata(self) -> IndexMetadata: ...

    def add(self, texts: Sequence[IndexedText], vectors: np.ndarray) -> None:
        """Store `texts` with their vectors (one row each)."""
        ...

    def delete(self, entry_ids: Sequence[str]) -> None:
        """Remove every text of these entries."""
        ...

    def texts(self) -> list[IndexedText]:
        """Every stored text, without vectors."""
        ...

    def vectors(self) -> tuple[list[IndexedText], np.ndarray]:
        """Every stored text and its vector (a float32 row each)."""
        ...


class VectorStore(Protocol):
    """Generations of the index, so a build publishes atomically and a killed build leaves the old one answering.

    Implemented by `botkit.providers.chroma` (the default) and `botkit.providers.memory` (tests).
    """

    def lock(self) -> AbstractContextManager[None]:
        """Held while a build runs: one builder at a time."""
        ...

    def current(self) -> VectorCollection | None:
        """The live generation; None before the first build."""
        ...

    def prepare(self, copy_current: bool, metadata: IndexMetadata) -> tuple[str, VectorCollection]:
        """A new, unpublished generation: empty with `metadata`, or a copy of the live one."""
        ...

    def publish(self, name: str) -> None:
        """Make the generation `name` the live one, atomically."""
        ...

    def prune(self) -> None:
        """Drop generations of killed builds and all but the one before the live one."""
        ...


class ChatModel(Protocol):
    """A chat LLM (implemented by `botkit.providers.openai.OpenAIChat`); raises `LLMError` on failure."""

    model_id: str

    def complete(self, system: str, user: str, *, max_tokens: int) -> str:
        """The model's reply to one system prompt and one user message."""
        ...


class HandoverSink(Protocol):
    """Receives conversations that go to a person."""

    def open(self, handover: Handover, user_id: str, channel: str) -> int: ...


class ConsentHook(Protocol):
    """The consent ledger as the bot sees it (implemented by `botkit.consent`)."""

    def intercept(self, user_id: str, channel: str, text: str, lang: str, message_id: str | None) -> Draft | None:
        """Handle an opt-in, confirmation or withdrawal message; None if it is none of these."""
        ...

    def intercept_withdrawal(self, user_id: str, channel: str, text: str, lang: str, message_id: str | None) -> Draft | None:
        """Handle only a withdrawal; a person may have the conversation, but STOP always works."""
        ...

    def shape(self, entry: FaqEntry, user_id: str, channel: str, lang: str) -> Draft:
        """The draft for a marketing entry: promotional parts only with granted consent."""
        ...
