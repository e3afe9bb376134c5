"""Which of the knowledge base's languages a user writes in."""

from __future__ import annotations

from collections.abc import Sequence

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_MIN_PROBABILITY = 0.9


class LanguageDetector:
    """Picks one of `languages` for a message; short or unclear messages keep the fallback."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        if len(self.languages) > 1:
            self._identifier.set_languages(list(self.languages))

    def detect(self, text: str, fallback: str) -> str:
        """The language of `text`, or `fallback` for one-word or unclear messages."""
        if len(self.languages) < 2 or len(text.split()) < 2:
            return fallback
        lang, probability = self._identifier.classify(text)
        return lang if probability >= _MIN_PROBABILITY and lang in self.languages else fallback
