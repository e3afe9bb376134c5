"""Which of the knowledge base's languages a user writes in."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_MIN_PROBABILITY = 0.9


class LanguageDetector:
    """Picks one of `languages` for a message; short or unclear messages keep the fallback."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        self._identifier = _identifier(tuple(sorted(set(self.languages)))) if len(self.languages) > 1 else None

    def detect(self, text: str, fallback: str) -> str:
        """The language of `text`, or `fallback` for one-word or unclear messages."""
        if self._identifier is None or len(text.split()) < 2:
            return fallback
        lang, probability = self._identifier.classify(text)
        return lang if probability >= _MIN_PROBABILITY and lang in self.languages else fallback


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    # Loading the model takes about a second; bots of one process share it (classifying only reads it).
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier
