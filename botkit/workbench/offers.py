"""Offer text in a client's FAQ: rows that look like marketing, and offers hidden inside a service answer.

Marketing content may only reach a customer who opted into its topic (GDPR Art. 6(1)(a), UWG
§ 7). The bot enforces that for marketing entries: everyone asking gets the entry's answer,
only consenting customers its `teaser`. A client's export does not always say which rows are
offers, and service answers sometimes carry one ("... Aktuell sparst du 50 % auf die
Startgebühr."). So the import looks for offer words and prices, per language:

- a service row whose question speaks of an offer, or whose every answer sentence is one, is
  *suggested as marketing*;
- a service row with an offer sentence among service sentences is flagged to *move the offer to
  a teaser*: the entry becomes a marketing entry on a consent topic, its answer keeps the service
  sentences (everyone still gets them), and the offer sentences become its teaser (sent only with
  consent). Links and buttons of a marketing entry also come only with consent.

Neither is applied until the consultant confirms it (`ImportChoices` in `workshop.yaml`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from botkit.types import FaqEntry, Topic

MARKETING = "marketing"
TEASER = "teaser"
DEFAULT_OFFER_TOPIC = "angebote"

# Offer words per language, as regular expressions on the lower-cased text. Compounds are spelt
# out where a plain substring would also match non-offers ("Kursangebot" is a range of courses).
OFFER_WORDS: dict[str, tuple[str, ...]] = {
    "de": (
        r"\b\w*rabatt\w*",
        r"\b(?:sommer|winter|frühlings|herbst|oster|weihnachts|neujahrs|neukunden|sonder|spar|werbe|jubiläums)?-?aktion(?:en)?\b",
        r"\b(?:sonder|neukunden|spar|jahres|willkommens|neujahrs)?angebot(?:e|s)?\b",
        r"\b\w*gutschein\w*",
        r"\bgratis\b",
        r"\bgeschenkt\b",
        r"\bschenken wir\b",
        r"\bspar(?:en|st|t)\b",
        r"\bersparnis\b",
        r"\bvergünstig\w*",
        r"\breduziert\w*",
        r"\bprämie\b",
        r"\bbonus\b",
        r"\bstatt\s+\d+(?:[.,]\d+)?",
        r"\bnur\s+(?:noch\s+)?\d+(?:[.,]\d+)?",
    ),
    "en": (
        r"\boffers?\b",
        r"\bdiscount\w*",
        r"\bdeals?\b",
        r"\bpromo(?:tion)?s?\b",
        r"\bcoupons?\b",
        r"\bvouchers?\b",
        r"\bsave\b",
        r"\bsavings?\b",
        r"\bfor free\b",
        r"\bfree (?:trial|month|gift)s?\b",
        r"\bsale\b",
        r"\binstead of\s+\W?\d+(?:[.,]\d+)?",
        r"\bonly\s+\W?\d+(?:[.,]\d+)?",
        r"\d\s?% off\b",
        r"\blimited[- ]time\b",
    ),
}
PRICE = re.compile(r"[€$£]\s?\d|\d(?:[\d.,]*\d)?\s?(?:€|\$|£|eur\b|euro\b|usd\b|chf\b)", re.IGNORECASE)
PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s?%")
_SENTENCE_END = re.compile(r"(?<=[^\d\s][.!?])\s+(?=[A-ZÄÖÜ\"„])")  # not after "31." or "1." in a date
_COMPILED = {lang: re.compile("|".join(f"(?:{w})" for w in words)) for lang, words in OFFER_WORDS.items()}


@dataclass(frozen=True)
class OfferFinding:
    """A row that looks like marketing (`kind` MARKETING) or a service answer holding an offer (`kind` TEASER)."""

    entry_id: str
    kind: str
    words: tuple[str, ...]  # the offer words and prices found
    offer: tuple[str, ...]  # the answer's offer sentences
    rest: tuple[str, ...]  # the answer's other sentences


def sentences(text: str) -> list[str]:
    """The sentences of an answer (not split inside dates such as "31. August")."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def offer_words(text: str, lang: str) -> list[str]:
    """Offer words (the client's language and English) and prices in `text`, in order, each once."""
    words = [_COMPILED[code].findall(text.lower()) for code in dict.fromkeys((lang, "en")) if code in _COMPILED]
    found = [w.strip() for group in words for w in group]
    prices = [m.group(0) for pattern in (PRICE, PERCENT) for m in pattern.finditer(text)]
    return list(dict.fromkeys([*found, *prices]))


def is_offer(sentence: str, lang: str) -> bool:
    """True for a sentence with an offer word, or with both a price and a percentage ("20 % auf 34,90 €")."""
    if any(_COMPILED[code].search(sentence.lower()) for code in dict.fromkeys((lang, "en")) if code in _COMPILED):
        return True
    return bool(PRICE.search(sentence) and PERCENT.search(sentence))


def find_offers(entries: Sequence[FaqEntry]) -> list[OfferFinding]:
    """Service entries that look like marketing, and service answers that hold an offer sentence, in entry order."""
    found = []
    for entry in entries:
        if entry.scope != "service":
            continue
        parts = sentences(entry.answer)
        offer = tuple(s for s in parts if is_offer(s, entry.lang))
        rest = tuple(s for s in parts if not is_offer(s, entry.lang))
        question_offers = is_offer(entry.question, entry.lang)
        if not offer and not question_offers:
            continue
        kind = MARKETING if question_offers or not rest else TEASER
        words = offer_words(" ".join((entry.question, *offer)), entry.lang)
        found.append(OfferFinding(entry.id, kind, tuple(words), offer, rest))
    return found


def offer_topic(entries: Sequence[FaqEntry], topics: Sequence[Topic]) -> str:
    """The consent topic offers go to: the client's first consent topic, else that of the first marketing entry."""
    if topics:
        return topics[0].id
    return next((e.topic for e in entries if e.scope == "marketing"), DEFAULT_OFFER_TOPIC)


def as_marketing(entry: FaqEntry, topic: str, consent_topics: set[str]) -> FaqEntry:
    """The entry as a marketing entry; on `topic` unless its own topic is a consent topic already."""
    return replace(entry, scope="marketing", topic=entry.topic if entry.topic in consent_topics else topic)


def move_to_teaser(entry: FaqEntry, finding: OfferFinding, topic: str, consent_topics: set[str]) -> FaqEntry:
    """The entry with its offer sentences moved out of the answer into the teaser (a marketing entry on `topic`)."""
    teaser = " ".join((entry.teaser, *finding.offer)).strip()
    return replace(as_marketing(entry, topic, consent_topics), answer=" ".join(finding.rest), teaser=teaser)


def apply_offer_choices(entries: Sequence[FaqEntry], choices: Mapping[str, bool], topics: Sequence[Topic]) -> list[FaqEntry]:
    """Apply the consultant's confirmed choices (entry id -> True) to the entries; unconfirmed findings change nothing."""
    topic = offer_topic(entries, topics)
    # Before the client has consent topics, the marketing entries' topics are the ones that get drafted.
    consent_topics = {t.id for t in topics} or {e.topic for e in entries if e.scope == "marketing"}
    findings = {f.entry_id: f for f in find_offers(entries)}
    out = []
    for entry in entries:
        finding = findings.get(entry.id)
        if finding is not None and choices.get(entry.id):
            entry = as_marketing(entry, topic, consent_topics) if finding.kind == MARKETING else move_to_teaser(entry, finding, topic, consent_topics)
        out.append(entry)
    return out


def offer_rows(findings: Sequence[OfferFinding], choices: Mapping[str, bool]) -> list[dict[str, str]]:
    """One table row per finding: the entry, what is suggested, the words found, and whether it is applied."""
    suggestion = {MARKETING: "mark as marketing", TEASER: "move the offer to a teaser"}
    state = {True: "applied (confirmed)", False: "declined: kept as service"}
    return [
        {
            "entry": f.entry_id,
            "suggestion": suggestion[f.kind],
            "found": ", ".join(f.words),
            "offer text": " ".join(f.offer),
            "state": state.get(choices[f.entry_id], "") if f.entry_id in choices else "suggested, not applied: confirm or decline",
        }
        for f in findings
    ]
