"""When to answer, ask which entry is meant, or hand the conversation to a person."""

from __future__ import annotations

from dataclasses import dataclass

from botkit.types import Decision, Reason, Retrieval


@dataclass(frozen=True)
class Thresholds:
    """The escalation settings a decision needs."""

    threshold: float
    clarify_margin: float
    max_misses: int
    suggest_threshold: float | None = None  # from here up to `threshold`: offer the best entries; None: no band


@dataclass(frozen=True)
class Verdict:
    """A decision with its machine-readable reason."""

    decision: Decision
    reason: Reason


def clarify_options(retrieval: Retrieval, limits: Thresholds, most: int = 3) -> tuple[str, ...]:
    """The entries a clarification offers: the best few within `clarify_margin` of the top."""
    floor = retrieval.confidence - limits.clarify_margin
    return tuple(h.entry_id for h in retrieval.hits[:most] if h.score >= floor)


def suggest_options(retrieval: Retrieval, most: int = 3) -> tuple[str, ...]:
    """The entries the uncertain band offers: the best `most`, dropping any far below the top."""
    floor = retrieval.confidence / 2
    return tuple(h.entry_id for h in retrieval.hits[:most] if h.score >= floor)


_FILLER = frozenset(
    "wie was wo wann warum wer welche welcher welches kann können könnt ich mich mir mein meine meinen meinem meiner "
    "sie ihr ihre ihren du dein deine ist sind wird werden gibt es ein eine einen einem der die das den dem des "
    "auf für mit zu zum zur bei von im in an am und oder bitte "
    "how what where when why who which can could do does i my me is are the a an to for of in on at and or please".split()
)


def short_title(question: str, limit: int = 20) -> str:
    """A button title that still says something when a channel cuts it to `limit` characters:
    the question itself when it fits, else its content words ("Wie melde ich meinen
    Zählerstand?" -> "melde Zählerstand")."""
    text = " ".join(question.split()).rstrip("?!. ")
    if len(text) <= limit:
        return text
    words = [w for w in text.split() if w.casefold().strip(",.:;") not in _FILLER]
    compact = " ".join(words) or text
    return compact[:1].upper() + compact[1:]


def decide(retrieval: Retrieval, limits: Thresholds, misses: int, repeats_last_answer: bool) -> Verdict:
    """Answer, clarify, suggest or hand over, given a retrieval and how the conversation went so far.

    Below `threshold` but at or above `suggest_threshold` the verdict is CLARIFY with reason
    "uncertain": the bot offers its best entries and a person instead of guessing.
    `misses` counts consecutive turns without a useful answer before this one; a turn that
    would repeat the previous answer counts as a miss, so the bot never loops.
    """
    if retrieval.top is None:
        return Verdict(Decision.HANDOVER, Reason.LOW_CONFIDENCE)
    if retrieval.confidence < limits.threshold:
        band = limits.suggest_threshold
        if band is not None and retrieval.confidence >= band:
            return Verdict(Decision.CLARIFY, Reason.UNCERTAIN)
        return Verdict(Decision.HANDOVER, Reason.LOW_CONFIDENCE)
    second = retrieval.hits[1] if len(retrieval.hits) > 1 else None
    ambiguous = second is not None and retrieval.margin < limits.clarify_margin and retrieval.confidence - retrieval.margin >= limits.threshold
    missed = ambiguous or repeats_last_answer
    if missed and misses + 1 >= limits.max_misses:
        return Verdict(Decision.HANDOVER, Reason.REPEATED_MISSES)
    if ambiguous:
        return Verdict(Decision.CLARIFY, Reason.AMBIGUOUS)
    return Verdict(Decision.ANSWERED, Reason.REPEATED_QUESTION if repeats_last_answer else Reason.CONFIDENT)
