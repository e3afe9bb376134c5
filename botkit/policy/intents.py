"""What kind of message is this: small talk, "are you human?", a request for a person, STOP, or a question.

A tiny knowledge base of its own: example utterances per kind (`utterances.yaml`, German and
English) are embedded once with the bot's embedder; a message takes the kind of its most
similar examples when that similarity reaches the kind's measured threshold and beats the
nearest ordinary customer question ("none") by the kind's margin. A message is first compared
in the retriever's form (`botkit.textform.embedding_form`, one vector for both); only one near
a kind is embedded again casefolded, the form the thresholds were measured on. A few exact rules come
first: chat commands, emoji-only messages, whole-message STOP keywords, and leading greeting
phrases (with the bot's names), which are split off so that the question after them is kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from botkit.embedcache import embed_once
from botkit.errors import ConfigError
from botkit.protocols import Embedder
from botkit.textform import REPEATED_PUNCT, clean, embedding_form, squeeze

SMALL_TALK = frozenset({"greeting", "thanks", "ack", "goodbye", "empty"})
KINDS = ("greeting", "thanks", "ack", "goodbye", "bot_question", "person_request", "withdrawal")


@dataclass(frozen=True)
class Threshold:
    """When a kind wins: its best example similarity reaches `similarity` and exceeds the best
    "none" example's by `margin` (a negative margin lets the kind win near misses)."""

    similarity: float
    margin: float


# Chosen by `python -m benchmarks.intents` on benchmarks/intent_tuning/ (never on the test sets
# in tests/data/intents/); rerun it after changing utterances.yaml or the embedder.
THRESHOLDS: Mapping[str, Threshold] = {
    "greeting": Threshold(0.37, 0.04),
    "thanks": Threshold(0.32, 0.10),
    "ack": Threshold(0.39, 0.04),
    "goodbye": Threshold(0.37, 0.00),
    "bot_question": Threshold(0.37, -0.01),
    "person_request": Threshold(0.41, 0.06),
    "withdrawal": Threshold(0.52, 0.00),
}


# A withdrawal closer than this to the nearest customer question is not `sure` (a policy choice,
# not tuned: about the spread of similarities between paraphrases of one question).
UNSURE_BAND = 0.05

# A message whose kind similarities in the retriever's (cased) form, against the examples in that
# form, all stay this far below the kinds' floors is a question without a closer look at its
# casefolded form. Measured on tuning data (benchmarks/README.md, "Speed"): every message of the
# intent tuning set classified as a kind comes within 0.014 of a floor in the cased form, and 69 %
# of the German FAQ development questions and 76 % of Banking77 seed 0 tuning questions stay below
# at 0.05 (casefolded queries would cost the retriever top-1, so the two forms cannot be one).
# Rerun: `python -m benchmarks.message_form`.
SCREEN_SLACK = 0.05

# A kind's similarity to a message: the mean of its NEIGHBOURS most similar examples (less
# swayed by one odd example than the single nearest; 1, 2 and 3 compared on the tuning set).
NEIGHBOURS = 2


@dataclass(frozen=True)
class Intent:
    """A classified message.

    `rest` is the question after a small-talk prefix ("Guten Morgen, kurze Frage zur Rechnung:
    wann kommt sie?" -> greeting, rest "wann kommt sie?"); "" when the message is only small
    talk. `sure` is False for a withdrawal barely closer to the withdrawal examples than to a
    customer question: withdraw, and say so.
    """

    kind: str
    score: float
    rest: str = ""
    sure: bool = True


_WORD = re.compile(r"\w+")
_SEPARATORS = ":;,.!?-–—\n"
_MIN_REST_WORDS = 2  # "Tag auch", "Servus beinand": a single word after a greeting is not a question


def normalise(text: str) -> str:
    """NFKC, format characters (soft hyphen, zero-width) removed, repeated punctuation collapsed, casefolded, trimmed."""
    return " ".join(REPEATED_PUNCT.sub(r"\1", clean(text)).casefold().split())


def decide(scores: Mapping[str, float], thresholds: Mapping[str, Threshold]) -> Intent:
    """The kind for a message's best similarity per kind (including "none"); pure, shared with the tuning script.

    The most similar kind that passes its threshold wins, except that a passing withdrawal
    beats small talk. A withdrawal less than `UNSURE_BAND` more similar than the nearest
    customer question is not `sure`: withdraw, and say so.
    """
    none = scores.get("none", -1.0)
    passing = [k for k in KINDS if k in scores and _passes(scores[k], none, thresholds[k])]
    if not passing:
        return Intent("none", none)
    kind = max(passing, key=lambda k: scores[k])
    if kind in SMALL_TALK and "withdrawal" in passing:  # "Bitte tragt mich aus" is no "ok"
        kind = "withdrawal"
    return Intent(kind, scores[kind], sure=kind != "withdrawal" or scores[kind] - none >= UNSURE_BAND)


def _passes(score: float, none: float, threshold: Threshold) -> bool:
    return score >= threshold.similarity and score - none >= threshold.margin


@dataclass(frozen=True)
class _Rules:
    """The exact rules of `utterances.yaml`."""

    commands: Mapping[str, str]
    emoji: Mapping[str, str]
    stop_words: frozenset[str]
    stop_companions: frozenset[str]
    fillers: frozenset[str]
    prefixes: tuple[tuple[str, str], ...]  # (phrase, kind), longest first
    announcements: tuple[str, ...]
    names: re.Pattern[str] | None  # the bot's names as whole words


def load_utterances() -> dict[str, Any]:
    """The built-in example utterances and exact rules (package data)."""
    text = resources.files("botkit.policy").joinpath("utterances.yaml").read_text(encoding="utf-8")
    utterances: dict[str, Any] = yaml.safe_load(text)
    return utterances


class IntentMatcher:
    """Classify messages by similarity to example utterances, after a few exact rules.

    Args:
        embedder: the bot's embedder; the examples are embedded once, here (or read, see `vectors_dir`).
        bot_names: names the bot answers to ("Hallo Tessa" is a greeting).
        examples: extra example utterances per kind (including "none"), added to the built-in ones.
        thresholds: per-kind thresholds; the measured `THRESHOLDS` by default.
        neighbours: a kind's similarity is the mean over its this many most similar examples.
        vectors_dir: where the examples' vectors are kept for the next process (`botkit.embedcache.embed_once`);
            None embeds them every time.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        bot_names: Sequence[str] = (),
        examples: Mapping[str, Sequence[str]] | None = None,
        thresholds: Mapping[str, Threshold] | None = None,
        neighbours: int = NEIGHBOURS,
        vectors_dir: Path | None = None,
    ) -> None:
        data = load_utterances()
        merged: dict[str, list[str]] = {k: list(v) for k, v in data["examples"].items()}
        for kind, texts in (examples or {}).items():
            if kind not in (*KINDS, "none"):
                raise ConfigError(f"unknown intent kind {kind!r} in examples; known: {', '.join((*KINDS, 'none'))}")
            merged.setdefault(kind, []).extend(texts)
        self._embedder = embedder
        self._thresholds = dict(thresholds or THRESHOLDS)
        self._neighbours = neighbours
        self._rules = _rules(data, bot_names)
        self._labels = np.array([k for k, texts in merged.items() for _ in texts])
        self._kinds = tuple(merged)
        texts = [t for k in merged for t in merged[k]]
        # Each example casefolded (the thresholds' form) and in the retriever's form (the screen's), in one call.
        forms = [*(squeeze(normalise(t)) for t in texts), *(embedding_form(t) for t in texts)]
        if vectors_dir is None:
            vectors = np.asarray(embedder.embed(forms), dtype=np.float32)
        else:
            vectors = embed_once(embedder, forms, vectors_dir, "intent-examples")
        self._matrix, self._cased = vectors[: len(texts)], vectors[len(texts) :]
        self._masks = {k: self._labels == k for k in self._kinds}
        self._cached = functools.lru_cache(maxsize=1024)(self._classify)

    def classify(self, text: str) -> Intent:
        """The kind of one message (at most one embedding call; repeated texts are cached)."""
        return self._cached(text)

    def scores(self, text: str) -> dict[str, float] | None:
        """The similarity per kind for the whole of `text`; None when an exact rule decides."""
        target = self._target(text)
        return None if isinstance(target, Intent) else self._similarities([target[1]])[0]

    def _classify(self, text: str) -> Intent:
        target = self._target(text)
        if isinstance(target, Intent):
            return target
        head, whole, body = target
        if head is None:
            return self._screen(whole) or decide(self._similarities([whole])[0], self._thresholds)
        whole_scores, body_scores = self._similarities([whole, body])
        found, about = decide(whole_scores, self._thresholds), decide(body_scores, self._thresholds)
        for candidate in (about, found):
            if candidate.kind not in SMALL_TALK and candidate.kind != "none":
                return candidate
        if about.kind in SMALL_TALK:
            return Intent(about.kind, about.score)
        # "Danke für alles" is thanks as a whole, as its prefix says; "Hallo, wann kommt die Rechnung?"
        # (or "Hallo, ich habe eine Frage zu …", however thankful it sounds) is a question after a greeting.
        if found.kind == head and found.score >= about.score:
            return Intent(found.kind, found.score)
        rest = body if len(_WORD.findall(body)) >= _MIN_REST_WORDS else ""
        return Intent(head, 1.0, rest=rest)

    def _target(self, text: str) -> Intent | tuple[str | None, str, str]:
        """An Intent decided by an exact rule, or (small-talk kind of a split-off prefix, whole text, text after it)."""
        cleaned = squeeze(REPEATED_PUNCT.sub(r"\1", clean(text))).strip()
        norm = " ".join(cleaned.casefold().split())
        words = _WORD.findall(norm)
        if not words:
            return self._symbols(norm)
        command = self._rules.commands.get(norm.split()[0].split("@")[0])
        if command is not None:
            return Intent(command, 1.0)
        if self._only_stop_words(words):
            return Intent("withdrawal", 1.0)
        head, rest = self._split(cleaned)
        if head is not None and not _WORD.search(rest):
            return Intent(head, 1.0)
        if head is not None and self._only_stop_words(_WORD.findall(rest.casefold())):  # "Hallo Lina, STOP"
            return Intent("withdrawal", 1.0)
        return head, cleaned, rest

    def _screen(self, whole: str) -> Intent | None:
        """ "none" when the message in the retriever's form (`embedding_form`, case kept) stays more than
        `SCREEN_SLACK` below every kind's similarity floor; None when it comes near one (look closer).

        On the retriever's `EmbeddingCache` this vector is the one retrieval uses, so an ordinary
        question costs one embedding; the casefolded text the thresholds were measured on is
        embedded only for messages near a kind.
        """
        scores = self._similarities([embedding_form(whole)], folded=False)[0]
        if any(scores[k] >= t.similarity - SCREEN_SLACK for k, t in self._thresholds.items() if k in scores):
            return None
        return Intent("none", scores.get("none", -1.0))

    def _similarities(self, texts: Sequence[str], *, folded: bool = True) -> list[dict[str, float]]:
        """The similarity per kind for each text (one embedding call): casefolded without the bot's names
        against the casefolded examples, or (not `folded`) as given against the examples in the retriever's form."""
        vectors = np.asarray(self._embedder.embed([self._without_names(t) if folded else t for t in texts]), dtype=np.float32)
        sims = vectors @ (self._matrix if folded else self._cased).T
        n = self._neighbours
        return [{k: float(np.sort(row[mask])[-n:].mean()) for k, mask in self._masks.items() if mask.any()} for row in sims]

    def _without_names(self, text: str) -> str:
        """The normalised text without the bot's names: a name says nothing about the kind ("Bye Lina")."""
        norm = normalise(text)
        if self._rules.names is None:
            return norm
        return " ".join(self._rules.names.sub(" ", norm).split()) or norm

    def _symbols(self, norm: str) -> Intent:
        """A message without words: a meaningful emoji (🛑 withdraws), else "empty"."""
        meant = {self._rules.emoji[c] for c in norm if c in self._rules.emoji}
        if "withdrawal" in meant:
            return Intent("withdrawal", 1.0)
        if len(meant) == 1:
            return Intent(meant.pop(), 1.0)
        return Intent("empty", 1.0)

    def _only_stop_words(self, words: list[str]) -> bool:
        """STOP, "Stopp alles", "opt-out", "Abmelden bitte": only withdrawal keywords and fillers."""
        joined = " ".join(words).replace("opt out", "optout")
        core = [w for w in joined.split() if w not in self._rules.fillers]
        return (
            bool(core) and all(w in self._rules.stop_words or w in self._rules.stop_companions for w in core) and any(w in self._rules.stop_words for w in core)
        )

    def _split(self, cleaned: str) -> tuple[str | None, str]:
        """Split leading small talk (greeting phrases, the bot's names, emoji, "kurze Frage …:") off a message."""
        folded = cleaned.lower()  # not casefold(): "ß" -> "ss" would shift the offsets that map back to `cleaned`
        if len(folded) != len(cleaned):
            return None, cleaned
        pos, head = 0, None
        while True:
            start = _skip_separators(folded, pos)
            phrase = next((p for p in self._rules.prefixes if _starts_with_word(folded, start, p[0])), None)
            if phrase is None:
                break
            head = head or phrase[1]
            pos = start + len(phrase[0])
        if head is None:
            return None, cleaned
        start = _skip_separators(folded, pos)
        announced = next((a for a in self._rules.announcements if _starts_with_word(folded, start, a)), None)
        if announced is not None:
            end = _clause_end(folded, start + len(announced))
            if end is not None and _WORD.search(folded[end:]):
                start = _skip_separators(folded, end)
        return head, cleaned[start:].strip()


def _rules(data: Mapping[str, Any], bot_names: Sequence[str]) -> _Rules:
    keywords = data["keywords"]
    names = [" ".join(n.lower().split()) for n in bot_names if n.strip()]
    prefixes = [(" ".join(p.lower().split()), kind) for kind, phrases in data["prefixes"].items() for p in phrases]
    prefixes += [(n, "greeting") for n in names]
    return _Rules(
        commands={c: kind for kind, commands in data["commands"].items() for c in commands},
        emoji={e: kind for kind, symbols in data["emoji"].items() for e in symbols},
        stop_words=frozenset(keywords["withdrawal"]),
        stop_companions=frozenset(keywords["companions"]),
        fillers=frozenset(keywords["fillers"]),
        prefixes=tuple(sorted(prefixes, key=lambda p: -len(p[0]))),
        announcements=tuple(sorted(data["announcements"], key=len, reverse=True)),
        names=re.compile(r"\b(" + "|".join(re.escape(normalise(n)) for n in names) + r")\b") if names else None,
    )


def _skip_separators(text: str, pos: int) -> int:
    """The index of the next word character at or after `pos` (skips spaces, punctuation, emoji)."""
    while pos < len(text) and not (text[pos].isalnum() or text[pos] == "_"):
        pos += 1
    return pos


def _starts_with_word(text: str, pos: int, phrase: str) -> bool:
    end = pos + len(phrase)
    return text.startswith(phrase, pos) and (end == len(text) or not text[end].isalnum())


def _clause_end(text: str, pos: int) -> int | None:
    """The index just after the separator that ends the clause at `pos`; None if the clause runs to the end."""
    for i in range(pos, len(text)):
        if text[i] in _SEPARATORS and (text[i] != "-" or (i + 1 < len(text) and text[i + 1] == " ")):
            return i + 1
    return None
