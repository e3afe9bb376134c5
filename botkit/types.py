"""Plain, frozen data passed between botkit's modules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # both import this module; Client only holds their values
    from botkit.channels.profiles import HouseRules
    from botkit.hours import BusinessHours

Scope = Literal["service", "marketing"]
SCOPES: tuple[str, ...] = ("service", "marketing")


@dataclass(frozen=True)
class FaqEntry:
    """One curated knowledge entry: the only thing the bot may answer from."""

    id: str
    question: str
    answer: str
    topic: str
    scope: Scope
    lang: str
    paraphrases: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    quick_replies: tuple[str, ...] = ()
    teaser: str = ""  # promotional add-on of a marketing entry, sent only with consent
    source: str = ""  # "file:line" it was read from, for messages

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its paraphrases."""
        return (self.question, *self.paraphrases)

    def content_hash(self) -> str:
        """A hash of everything that is embedded or shown, independent of `source`."""
        data = {k: v for k, v in self.__dict__.items() if k != "source"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Hit:
    """One knowledge entry found for a question."""

    entry_id: str
    score: float  # this entry's confidence in [0, 1], on the scale of `Retrieval.confidence`
    matched: str  # the phrasing that matched best


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits for a question, with a confidence in [0, 1] (higher = more confident)."""

    query: str
    hits: tuple[Hit, ...]
    confidence: float
    margin: float  # confidence-scale gap between the best and the runner-up entry

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Decision(str, Enum):
    """What the bot decided to do with a message."""

    ANSWERED = "answered"
    CLARIFY = "clarify"
    HANDOVER = "handover"
    SILENT = "silent"  # a human has the conversation
    CONSENT = "consent"  # a consent dialogue step (opt-in, confirmation, withdrawal)


class Reason(StrEnum):
    """Why the bot decided what it did (`Reply.reason`); a `str`, so it compares and serialises as its value."""

    # answered
    CONFIDENT = "confident"  # the best entry is clear and above the threshold
    REPEATED_QUESTION = "repeated_question"  # the same entry as the last answer again
    CLARIFIED = "clarified"  # the user picked an option of a clarification or suggestion
    QUICK_REPLY = "quick_reply"  # the user tapped (or typed) a quick reply of the last answer
    BOT_QUESTION = "bot_question"  # "are you a bot?"
    GREETING = "greeting"
    THANKS = "thanks"
    ACK = "ack"
    GOODBYE = "goodbye"
    EMPTY = "empty"  # nothing to look up (emoji, a sticker)
    # clarify
    UNCERTAIN = "uncertain"  # below the threshold but within the suggestion band: the best entries are offered
    AMBIGUOUS = "ambiguous"  # several entries fit about equally well
    # handover
    LOW_CONFIDENCE = "low_confidence"
    REPEATED_MISSES = "repeated_misses"
    USER_REQUEST = "user_request"
    NOTHING_FITS = "nothing_fits"  # the user said none of the offered entries fits
    WAITING = "waiting"  # a handover already waits for a person: a reminder
    NOBODY_CAME = "nobody_came"  # the handover timed out; the bot tells the user and takes over again
    # consent and silence
    CONSENT = "consent"  # a consent dialogue step
    WITH_HUMAN = "with_human"  # a person has the conversation: the bot stays silent


@dataclass(frozen=True)
class Draft:
    """What the bot wants to say, before a channel shapes it."""

    text: str
    links: tuple[str, ...] = ()
    quick_replies: tuple[str, ...] = ()
    image: str | None = None


@dataclass(frozen=True)
class Message:
    """One message as a channel sends it: `payload` is ready for the platform's send API."""

    channel: str
    text: str
    quick_replies: tuple[str, ...] = ()
    image: str | None = None
    payload: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Handover:
    """Why and with what a conversation went to a person."""

    conversation_id: str
    reason: Reason  # LOW_CONFIDENCE, USER_REQUEST, REPEATED_MISSES or NOTHING_FITS
    details: dict[str, Any]
    transcript: tuple[dict[str, str], ...]
    id: int | None = None  # its place in the queue, once queued


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one user message."""

    conversation_id: str
    decision: Decision
    reason: Reason
    confidence: float
    entries: tuple[str, ...]
    messages: tuple[Message, ...]
    disclosed: bool = False
    handover: Handover | None = None
    retrieval: Retrieval | None = field(default=None, compare=False)
    phrasing: str = "verbatim"  # "llm" when an LLM's phrasing passed the grounding gate
    phrasing_reason: str = ""  # why verbatim; empty when no LLM is configured

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `botkit ask --json` (`phrasing` keys only with an LLM configured)."""
        data: dict[str, Any] = {
            "decision": self.decision.value,
            "reason": str(self.reason),
            "confidence": round(self.confidence, 4),
            "entries": list(self.entries),
            "messages": [m.text for m in self.messages],
            "disclosed": self.disclosed,
        }
        if self.phrasing != "verbatim" or self.phrasing_reason:
            data["phrasing"] = self.phrasing
            data["phrasing_reason"] = self.phrasing_reason
        return data


@dataclass(frozen=True)
class Topic:
    """A marketing topic a user can opt into; `version` identifies the wording shown."""

    id: str
    title: dict[str, str]
    description: dict[str, str]
    version: str


@dataclass(frozen=True)
class Client:
    """Who the bot speaks for, from the knowledge base's `botkit.yaml`.

    Args:
        contact: how to reach the client (e.g. in a GDPR export); `botkit.yaml` defaults it to
            phone and e-mail. The bot offers phone and e-mail as the alternative, else `contact`.
        tone: "sie" or "du", the German form of address (English has one).
        hours: when people answer; None = not configured (the bot promises no time).
        handover_minutes: usual answer time of a person while the team is there.
        texts: per text key, per language: the client's wording of a system text.
        house_rules: the client's short-message rules; None = botkit's defaults.
    """

    name: str = "our service"
    bot_name: str = "Bot"
    contact: str = ""
    phone: str = ""
    email: str = ""
    privacy_url: str = ""
    tone: Literal["sie", "du"] = "sie"
    hours: BusinessHours | None = None
    handover_minutes: float = 30
    topics: tuple[Topic, ...] = ()
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    house_rules: HouseRules | None = None
