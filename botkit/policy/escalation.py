"""When to answer, ask which entry is meant, or hand the conversation to a person."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botkit.types import Decision, Retrieval

_HUMAN_REQUEST = re.compile(
    r"\b(mitarbeiter\w*|menschen?|echte[nrm]? person|kundenberater\w*|sachbearbeiter\w*|"
    r"persönlich sprechen|jemand(en)? (echtes|persönlich)|"
    r"agent|human|real person|representative|operator|someone real|customer service rep\w*)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(hallo|hi|hey|hej|moin|servus|grüß gott|guten (morgen|tag|abend)|hello|good (morning|afternoon|evening))"
    r"[\s!.,]*(zusammen|there|lina)?[\s!.,]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Thresholds:
    """The escalation settings a decision needs."""

    threshold: float
    clarify_margin: float
    max_misses: int


@dataclass(frozen=True)
class Verdict:
    """A decision with its machine-readable reason."""

    decision: Decision
    reason: str


def asks_for_human(text: str) -> bool:
    """Does the user ask to talk to a person?"""
    return bool(_HUMAN_REQUEST.search(text))


def is_greeting(text: str) -> bool:
    """Is the message only a greeting?"""
    return bool(_GREETING.match(text))


def clarify_options(retrieval: Retrieval, limits: Thresholds, most: int = 3) -> tuple[str, ...]:
    """The entries a clarification offers: the best few within `clarify_margin` of the top."""
    floor = retrieval.confidence - limits.clarify_margin
    return tuple(h.entry_id for h in retrieval.hits[:most] if h.score >= floor)


def decide(retrieval: Retrieval, limits: Thresholds, misses: int, repeats_last_answer: bool) -> Verdict:
    """Answer, clarify or hand over, given a retrieval and how the conversation went so far.

    `misses` counts consecutive turns without a useful answer before this one; a turn that
    would repeat the previous answer counts as a miss, so the bot never loops.
    """
    if retrieval.top is None or retrieval.confidence < limits.threshold:
        return Verdict(Decision.HANDOVER, "low_confidence")
    second = retrieval.hits[1] if len(retrieval.hits) > 1 else None
    ambiguous = (
        second is not None and retrieval.margin < limits.clarify_margin and retrieval.confidence - retrieval.margin >= limits.threshold
    )
    missed = ambiguous or repeats_last_answer
    if missed and misses + 1 >= limits.max_misses:
        return Verdict(Decision.HANDOVER, "repeated_misses")
    if ambiguous:
        return Verdict(Decision.CLARIFY, "ambiguous")
    return Verdict(Decision.ANSWERED, "repeated_question" if repeats_last_answer else "confident")
