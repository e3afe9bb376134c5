"""Which of the knowledge base's languages a user writes in."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_MIN_PROBABILITY = 0.9


class LanguageDetector:
    """Picks one of `languages` for a message; short or unclear messages keep the fallback.

    Region variants (`en-GB`) are told apart by their base language (`en`); a base language
    with several variants and no plain code, and a language the identifier does not know,
    are never detected (their messages keep the fallback).
    """

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        variants: dict[str, list[str]] = {}
        for lang in dict.fromkeys(self.languages):
            variants.setdefault(lang.split("-")[0].lower(), []).append(lang)
        self._by_base = {base: (names[0] if len(names) == 1 else base) for base, names in variants.items() if len(names) == 1 or base in names}
        self._bases = tuple(sorted(self._by_base))

    def detect(self, text: str, fallback: str) -> str:
        """The language of `text`, or `fallback` for one-word or unclear messages."""
        if len(self._bases) < 2 or len(text.split()) < 2:
            return fallback
        identifier = _identifier(self._bases)  # loaded at the first message it is needed for: a process may never reply
        if identifier is None:
            return fallback
        base, probability = identifier.classify(text)
        return self._by_base[base] if probability >= _MIN_PROBABILITY else fallback


@lru_cache(maxsize=8)
def _identifier(bases: tuple[str, ...]) -> LanguageIdentifier | None:
    """The identifier restricted to the `bases` it knows; None when that leaves fewer than two."""
    # Loading the model takes about a second; bots of one process share it (classifying only reads it).
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    known = [base for base in bases if base in identifier.nb_classes]
    if len(known) < 2:
        return None
    identifier.set_languages(known)
    return identifier
