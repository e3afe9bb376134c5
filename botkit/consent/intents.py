"""Recognise consent messages (opt-in, confirmation, withdrawal) in German and English.

No database. Exact rules first, on the normalised text (NFKC, no format characters, so
"ＳＴＯＰ" and "S\u00adTOP" are STOP): a bare keyword must be the whole message ("STOP"), and a
topic-specific request needs the topic and either a marketing word, the topic's full title or
a short message. They err towards *not* reading a service question as an opt-in. Withdrawal
in a sentence ("Ich möchte mich abmelden", "Opt me out") is then recognised by meaning, with
the example-utterance matcher of `botkit.policy.intents`; when that matcher prefers
withdrawal only because it is preferred in doubt, the intent is not `sure`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from botkit.policy.intents import IntentMatcher
from botkit.policy.intents import normalise as clean
from botkit.types import Topic

Kind = Literal["stop_all", "stop_topics", "opt_in", "confirm", "decline"]

# Whole-message keywords (after dropping polite fillers) that withdraw every consent.
STOP_KEYWORDS: frozenset[str] = frozenset(
    {
        "stop",
        "stopp",
        "stop all",
        "stopall",
        "infostop",
        "info stop",
        "werbestopp",
        "werbung stop",
        "stop werbung",
        "stopp werbung",
        "abmelden",
        "abbestellen",
        "austragen",
        "unsubscribe",
        "opt out",
        "optout",
        "widerruf",
        "widerrufen",
        "ich widerrufe",
        "widerspruch",
        "ich widerspreche",
        "i object",
        "keine werbung",
        "keine werbung mehr",
        "keine angebote mehr",
        "keine nachrichten mehr",
        "no marketing",
        "no more marketing",
        "no more offers",
        "no more messages",
        "no more ads",
    }
)
# Phrases that withdraw every consent wherever they appear in a message.
STOP_PHRASES: tuple[str, ...] = (
    "keine werbung",
    "no more marketing",
    "no marketing messages",
    "widerrufe meine einwilligung",
    "widerrufe die einwilligung",
    "withdraw my consent",
    "widerspreche der werbung",
    "object to marketing",
)
# Whole-message confirmations of a pending request (double opt-in) and refusals.
CONFIRM_WORDS: frozenset[str] = frozenset(
    {
        "ja",
        "yes",
        "jawohl",
        "ja klar",
        "ja will ich",
        "bestaetigen",
        "ja bestaetigen",
        "ich bestaetige",
        "ja ich bestaetige",
        "bestaetigt",
        "confirm",
        "yes confirm",
        "i confirm",
        "yes i confirm",
        "confirmed",
        "yes i do",
        "yes sure",
    }
)
DECLINE_WORDS: frozenset[str] = frozenset(
    {
        "nein",
        "no",
        "nope",
        "lieber nicht",
        "abbrechen",
        "cancel",
        "no thanks",
        "nein danke",
    }
)

_FILLERS = frozenset({"bitte", "please", "pls", "danke", "thanks", "thank", "you", "jetzt", "now", "sofort", "gerne", "gern"})
_STOP_CUES = (
    "stop",
    "stopp",
    "infostop",
    "abmelden",
    "abbestellen",
    "austragen",
    "unsubscribe",
    "widerrufen",
    "widerrufe",
    "opt out",
    "optout",
    "keine",
    "nicht mehr",
    "no more",
    "no longer",
    "dont want",
    "don t want",
    "do not want",
)
_SUBSCRIBE_CUES = (
    "abonnieren",
    "abonniere",
    "abonniert",
    "abo",
    "subscribe",
    "anmelden",
    "sign up",
    "sign me up",
    "opt in",
    "optin",
    "einwilligen",
    "send me",
    "schickt mir",
    "schicken sie mir",
)
_DESIRE = ("moechte", "moechten", "will", "wuerde", "wuerden", "want", "like", "interested", "interessiert", "interessiere")
_RECEIVE = ("erhalten", "bekommen", "zugeschickt", "zuschicken", "zusenden", "receive", "get", "getting")
_MARKETING_WORDS = (
    "angebote",
    "angebot",
    "offers",
    "offer",
    "aktionen",
    "werbung",
    "marketing",
    "newsletter",
    "infos",
    "informationen",
    "news",
    "nachrichten",
    "messages",
    "updates",
    "tipps",
    "tips",
)
# Words too common to identify a topic on their own.
_GENERIC = frozenset({*_MARKETING_WORDS, "energy", "saving", "energie", "strom", "power", "e"})
_SHORT = 4  # words: a message this short that names a topic and a cue is about that topic
_MIN_WORD = 4  # letters: shorter title words ("E", "to") do not identify a topic
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True)
class Intent:
    """A recognised consent message; `topics` are ids (empty for stop_all/confirm/decline).

    `sure` is False for a withdrawal read from a sentence that was nearly as much a question.
    """

    kind: Kind
    topics: tuple[str, ...] = ()
    sure: bool = True
    read: bool = False  # recognised by the intent matcher from a sentence, not by an exact rule


def normalize(text: str) -> str:
    """NFKC without format characters, lower case, umlauts transliterated, punctuation and hyphens as single spaces."""
    folded = clean(text).translate(_TRANSLIT)
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def classify(text: str, topics: Iterable[Topic], matcher: IntentMatcher | None = None) -> Intent | None:
    """What consent step a message is, if any; `confirm`/`decline` only mean something while a request is pending.

    With a `matcher`, a message the exact rules do not recognise is a withdrawal when the
    matcher reads it as one (naming the topics it mentions, else all).
    """
    topics = tuple(topics)
    found = _by_rules(text, topics)
    if found is not None or matcher is None:
        return found
    meant = matcher.classify(text)
    if meant.kind != "withdrawal":
        return None
    norm = normalize(text)
    named = tuple(t.id for t in topics if _mention(norm, t) is not None)
    if named:
        return Intent("stop_topics", named, sure=meant.sure, read=True)
    return Intent("stop_all", sure=meant.sure, read=True)


def _by_rules(text: str, topics: Iterable[Topic]) -> Intent | None:
    norm = normalize(text)
    if not norm:
        return None
    core = " ".join(w for w in norm.split() if w not in _FILLERS) or norm
    if core in STOP_KEYWORDS or any(_has(norm, p) for p in STOP_PHRASES):
        return Intent("stop_all")
    mentioned = [(t.id, strong) for t in topics if (strong := _mention(norm, t)) is not None]
    if mentioned:
        specific = any(strong for _, strong in mentioned) or any(_has(norm, w) for w in _MARKETING_WORDS)
        short = len(norm.split()) <= _SHORT
        ids = tuple(topic_id for topic_id, _ in mentioned)
        if any(_has(norm, c) for c in _STOP_CUES) and (specific or short):
            return Intent("stop_topics", ids)
        subscribes = any(_has(norm, c) for c in _SUBSCRIBE_CUES) and (specific or short)
        wants = any(_has(norm, d) for d in _DESIRE) and any(_has(norm, r) for r in _RECEIVE) and specific
        if subscribes or wants:
            return Intent("opt_in", ids)
    if core in CONFIRM_WORDS:
        return Intent("confirm")
    if core in DECLINE_WORDS or norm in DECLINE_WORDS:
        return Intent("decline")
    return None


def topic_phrases(topic: Topic) -> tuple[frozenset[str], frozenset[str]]:
    """(strong, weak) ways a message names a topic: full titles and the id; distinctive single words."""
    names = [normalize(title) for title in topic.title.values()] + [normalize(topic.id)]
    strong = {n for n in names if n} | {n.replace(" ", "") for n in names if n}
    weak = {w for n in names for w in n.split() if len(w) >= _MIN_WORD and w not in _GENERIC}
    return frozenset(strong), frozenset(weak - strong)


def _mention(norm: str, topic: Topic) -> bool | None:
    """True: named by a full title or id; False: by a distinctive word; None: not named."""
    strong, weak = topic_phrases(topic)
    if any(_has(norm, p) for p in strong):
        return True
    if any(_has(norm, w) for w in weak):
        return False
    return None


def _has(norm: str, phrase: str) -> bool:
    return f" {phrase} " in f" {norm} "
