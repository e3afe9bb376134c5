"""The small seams where vendors plug in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from botkit.types import Draft, FaqEntry, Handover


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `model_id`/`version` are recorded in the index."""

    model_id: str
    version: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


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
