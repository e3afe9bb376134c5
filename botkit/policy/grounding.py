"""The grounding gate: may an LLM-phrased reply be sent instead of the verbatim answer?

A phrased reply passes only if every number, price, date, phone number, e-mail address and
link in it also appears in the cited entries, it does not claim to be a person or take on
another name, it carries no marketing content the user has not consented to, and its length
is between a floor (an "OK" is no answer) and the channel's budget. Reply and sources are
normalised before comparing: NFKC (full-width digits and dots), number words as digits
("neunzehn Euro" = "19 €"), and formats ("12,50 €" = "12.50 EUR", "31. März 2027" =
"31.03.2027", "0800 123 4567" = "+49 800 1234567"); digits grouped by spaces, dots, dashes or
slashes are compared as one sequence, so "4567 123 800" is no rearrangement of known numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from botkit.policy.numerals import words_to_digits

RULES: tuple[str, ...] = (
    "empty",
    "too_short",
    "too_long",
    "url",
    "email",
    "date",
    "phone",
    "price",
    "number",
    "human_claim",
    "persona",
    "marketing",
)


@dataclass(frozen=True)
class Grounds:
    """What a phrased reply may draw on.

    Args:
        sources: texts of the cited entries exactly as they would be sent verbatim (answer,
            links, and a marketing teaser only when the user consented).
        withheld: marketing content the user has not consented to (teasers, topic titles):
            none of it may show up in the reply.
        bot_name: the one name the bot may introduce itself with.
        min_chars: shortest allowed reply (an "OK" drops the answer's content).
        max_chars: longest allowed reply; None for no limit.
    """

    sources: tuple[str, ...]
    withheld: tuple[str, ...] = ()
    bot_name: str = ""
    min_chars: int = 0
    max_chars: int | None = None


@dataclass(frozen=True)
class Violation:
    """One broken rule and the part of the reply that broke it."""

    rule: str  # one of RULES
    fragment: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.fragment!r}"


def check_reply(text: str, grounds: Grounds) -> list[Violation]:
    """Every way `text` breaks the grounding rules; an empty list means it may be sent."""
    if not text.strip():
        return [Violation("empty", "")]
    found: list[Violation] = []
    if len(text.strip()) < grounds.min_chars:
        found.append(Violation("too_short", f"{len(text.strip())} < {grounds.min_chars} characters"))
    if grounds.max_chars is not None and len(text) > grounds.max_chars:
        found.append(Violation("too_long", f"{len(text)} > {grounds.max_chars} characters"))
    text = normalise(text)
    grounds = replace(grounds, sources=tuple(normalise(s) for s in grounds.sources))
    found.extend(_fact_violations(text, " \n ".join(grounds.sources)))
    found.extend(_human_claims(text, grounds))
    found.extend(_marketing(text, grounds))
    return found


_DOT_WORDS = re.compile(r"\s*[\[(]\s*(?:dot|punkt)\s*[\])]\s*|[。｡]", re.IGNORECASE)


def normalise(text: str) -> str:
    """NFKC without format characters, spelled-out dots as dots, number words as digits."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return words_to_digits(_DOT_WORDS.sub(".", folded))


# --- facts: links, addresses, dates, phone numbers, prices and numbers -------------------

_URL = re.compile(
    r"\bhttps?://[^\s<>()\"'\]]+|\bwww\.[^\s<>()\"'\]]+"
    r"|\b(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\b(?:/[^\s<>()\"'\]]*)?",  # any label.label: bit.ly, x.app
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MONTHS = {
    "januar": 1,
    "jan": 1,
    "january": 1,
    "jänner": 1,
    "februar": 2,
    "feb": 2,
    "february": 2,
    "märz": 3,
    "maerz": 3,
    "mär": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "may": 5,
    "juni": 6,
    "jun": 6,
    "june": 6,
    "juli": 7,
    "jul": 7,
    "july": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
    "december": 12,
    "dec": 12,
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})\b)?"), "dmy"),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"), "slash"),
    (re.compile(rf"\b(\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(\d{{4}}))?", re.IGNORECASE), "d_month"),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE), "month_d"),
)
# A phone number starts with + or 0 and has at least 7 digits in groups.
_PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\d[\d\s/()-]{5,}\d(?![\w])")
_CURRENCY = r"(?:€|eur\b|euro\b|ct\b|cent\b|\$|£|usd\b|chf\b)"
_NUMBER = r"\d+(?:[.,]\d+)*"
_PRICE = re.compile(rf"{_CURRENCY}\s?({_NUMBER})|({_NUMBER})(?:,-)?\s?{_CURRENCY}", re.IGNORECASE)
_TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})\s?(?:uhr|h|am|pm)\b|\b(\d{1,2}):(\d{2})\b", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(_NUMBER)
# Digits grouped by spaces, dots, dashes or slashes read as one sequence ("4567 123 800").
_DIGIT_RUN = re.compile(r"\d+(?:[ .\-–—/]\d+)+")

Date = tuple[int, int, int | None]


@dataclass(frozen=True)
class _Facts:
    urls: set[str]
    hosts: set[str]
    emails: set[str]
    dates: set[Date]
    phones: set[str]
    numbers: set[Decimal]
    prices: set[Decimal]
    times: set[str]
    sequences: set[str]  # digit sequences without separators


def _fact_violations(text: str, sources: str) -> Iterator[Violation]:
    allowed = _facts(sources)
    # E-mail addresses first: their domain would otherwise pass as a link.
    for fragment, _ in _matches(_EMAIL, text):
        if fragment.lower() not in allowed.emails:
            yield Violation("email", fragment)
    text = _EMAIL.sub(" ", text)
    for fragment, url in _matches(_URL, text):
        key = _url_key(url)
        if key not in allowed.urls and key not in allowed.hosts:
            yield Violation("url", fragment)
    text = _URL.sub(" ", text)
    for fragment, date in _dates(text):
        if not any(_same_date(date, known) for known in allowed.dates):
            yield Violation("date", fragment)
    text = _strip_dates(text)
    for fragment, phone in _phones(text):
        if phone not in allowed.phones:
            yield Violation("phone", fragment)
    text = _strip_phones(text)
    for fragment, time in _times(text):
        if time not in allowed.times and not (time.endswith(":00") and Decimal(time[:-3]) in allowed.numbers):
            yield Violation("number", fragment)
    text = _TIME.sub(" ", text)
    for match in _PRICE.finditer(text):
        token = match.group(1) or match.group(2)
        if not _number_values(token) & allowed.prices:  # a price only from a price: "zwei Wochen" grounds no "2 €"
            yield Violation("price", match.group(0).strip())
    text = _PRICE.sub(" ", text)
    for match in _PLAIN_NUMBER.finditer(text):
        if not _number_values(match.group(0)) & allowed.numbers:
            yield Violation("number", match.group(0))
    for match in _DIGIT_RUN.finditer(text):
        groups = re.findall(r"\d+", match.group(0))
        digits = "".join(groups)
        if len(groups) < 2 or any(digits in known for known in allowed.sequences):
            continue
        is_range = len(groups) == 2 and re.search(r"[-–—/]", match.group(0))  # "9–18", "3/4": two known numbers
        if not (is_range and all(_number_values(g) & allowed.numbers for g in groups)):
            yield Violation("phone" if len(digits) >= 7 else "number", match.group(0))


def _facts(sources: str) -> _Facts:
    emails = {e.lower() for _, e in _matches(_EMAIL, sources)}
    without_emails = _EMAIL.sub(" ", sources)
    urls = {_url_key(u) for _, u in _matches(_URL, without_emails)}
    hosts = {u.split("/", 1)[0] for u in urls} | {e.split("@", 1)[1] for e in emails}
    rest = _URL.sub(" ", without_emails)
    dates = {d for _, d in _dates(rest)}
    phones = {p for _, p in _phones(_strip_dates(rest))}
    times = {t for _, t in _times(rest)}
    numbers: set[Decimal] = set()
    for match in _PLAIN_NUMBER.finditer(rest):
        numbers |= _number_values(match.group(0))
    for day, month, year in dates:  # "bis 31.03." also grounds a plain "31"
        numbers |= {Decimal(day), Decimal(month)} | ({Decimal(year)} if year else set())
    prices = {v for m in _PRICE.finditer(rest) for v in _number_values(m.group(1) or m.group(2))}
    sequences = {re.sub(r"\D", "", m.group(0)) for m in _DIGIT_RUN.finditer(rest)} | phones
    return _Facts(urls, hosts, emails, dates, phones, numbers, prices, times, sequences)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[tuple[str, str]]:
    for match in pattern.finditer(text):
        fragment = match.group(0).rstrip(".,;:!?")
        yield fragment, fragment


def _url_key(url: str) -> str:
    key = re.sub(r"^https?://", "", url.lower())
    key = key.removeprefix("www.")
    return key.rstrip("/")


def _dates(text: str) -> Iterator[tuple[str, Date]]:
    for pattern, kind in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            for date in _date_values(kind, match.groups()):
                if 1 <= date[0] <= 31 and 1 <= date[1] <= 12:
                    yield match.group(0).strip(), date


def _date_values(kind: str, groups: Sequence[str | None]) -> list[Date]:
    def year(raw: str | None) -> int | None:
        if not raw:
            return None
        return int(raw) + 2000 if len(raw) == 2 else int(raw)

    a, b, c = groups
    if kind == "ymd":
        return [(int(str(c)), int(str(b)), year(a))]
    if kind == "dmy":
        return [(int(str(a)), int(str(b)), year(c))]
    if kind == "slash":  # 03/04/2027 is 3 April in Europe, 4 March in the US: accept either
        return [(int(str(a)), int(str(b)), year(c)), (int(str(b)), int(str(a)), year(c))]
    if kind == "d_month":
        return [(int(str(a)), _MONTHS[str(b).lower()], year(c))]
    return [(int(str(b)), _MONTHS[str(a).lower()], year(c))]


def _same_date(wanted: Date, known: Date) -> bool:
    return wanted[:2] == known[:2] and (wanted[2] is None or known[2] is None or wanted[2] == known[2])


def _strip_dates(text: str) -> str:
    for pattern, _ in _DATE_PATTERNS:
        text = pattern.sub(" ", text)
    return text


def _phones(text: str) -> Iterator[tuple[str, str]]:
    for match in _PHONE.finditer(text):
        fragment = match.group(0).strip()
        digits = re.sub(r"\D", "", fragment.replace("(0)", ""))
        if len(digits) < 7 or not fragment.startswith(("+", "0")):
            continue
        if fragment.startswith("+"):  # +49 800 ... is 0800 ... dialled in Germany
            digits = "0" + digits[2:] if digits.startswith("49") else "00" + digits
        elif digits.startswith("0049"):
            digits = "0" + digits[4:]
        yield fragment, digits


def _strip_phones(text: str) -> str:
    for fragment, _ in list(_phones(text)):
        text = text.replace(fragment, " ")
    return text


def _times(text: str) -> Iterator[tuple[str, str]]:
    for match in _TIME.finditer(text):
        hour, minute = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        if int(hour) <= 24 and int(minute) < 60:
            yield match.group(0), f"{int(hour)}:{minute}"


def _number_values(token: str) -> set[Decimal]:
    """The values a number may mean: "1.199" is 1199 in German and 1.199 in English."""
    values: set[Decimal] = set()
    for decimal_mark, thousands in ((",", "."), (".", ",")):
        head, mark, fraction = token.partition(decimal_mark)
        if mark and (decimal_mark in fraction or thousands in fraction):
            continue
        groups = head.split(thousands)
        if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
            continue
        try:
            values.add(Decimal("".join(groups) + (f".{fraction}" if mark else "")))
        except InvalidOperation:
            continue
    return values


# --- claims of being a person -------------------------------------------------------------

# A claim is built from parts, not listed sentence by sentence: who speaks (first person, "hier
# schreibt", "you are talking to") + up to two words (a name) + modifiers ("ein echter",
# "really a") + a word for a person; or a denial of being a machine anywhere ("kein Bot").
_SPEAKER = (
    r"ich\s+bin|wir\s+sind|ich\s+bleibe|hier\s+(?:ist|sind|spricht|sprechen|schreibt|schreiben|antwortet|antworten|chattet)"
    r"|(?:sie|du)\s+(?:sprechen|chatten|schreiben|sprichst|chattest|schreibst)\s+(?:hier\s+|gerade\s+)?mit"
    r"|mit\s+(?:ihnen|dir)\s+(?:spricht|schreibt|chattet)"
    r"|i\s*(?:'m|’m|\s+am)|we\s*(?:'re|’re|\s+are)"
    r"|you(?:'re|’re|\s+are)\s+(?:talking|chatting|speaking|writing)\s+(?:to|with)|you\s+(?:talk|chat|speak)\s+(?:to|with)"
)
_MODIFIER = (
    r"ein|eine|einer|einem|einen|a|an|the|der|die|ganz|nur|auch|hier|wirklich|tatsächlich|persönlich|selbst"
    r"|echt\w*|richtig\w*|lebendig\w*|menschlich\w*|leibhaftig\w*|real|actual(?:ly)?|really|truly|genuine(?:ly)?"
    r"|live|living|just|only|also|here|personally|definitely|certainly|100\s?%|indeed"
)
_PERSON_WORD = (
    r"mensch(?:en)?|person(?:en)?|mitarbeiter(?:in|innen)?|kundenberater(?:in)?|berater(?:in)?|sachbearbeiter(?:in)?"
    r"|angestellte[rn]?|kolleg(?:e|en|in)|teammitglied\w*|servicekr(?:a|ä)ft\w*|monteur(?:in)?|techniker(?:in)?|ansprechpartner(?:in)?|frau|mann"
    r"|humans?(?:\s+beings?)?|persons?|people|employees?|staff\s+members?|team\s+members?|members?\s+of\s+(?:the\s+)?(?:staff|team)"
    r"|customer\s+service\s+(?:agent|representative)s?|representatives?|colleagues?|woman"
)
_MACHINE_WORD = (
    r"bots?|chatbots?|roboter|robots?|maschinen?|machines?|ki|ai|computer|programm|program|automat|automated"
    r"|automatisiert|software|sprachmodell|language\s+model|llm"
)
# "echte Mitarbeiter", "real people", "ein Team aus Menschen": people promised without a speaker.
_REAL_PEOPLE = re.compile(
    rf"\b(?:echt|richtig|lebendig|leibhaftig)\w*\s+(?:{_PERSON_WORD})\b"
    rf"|\b(?:real|genuine|actual|live|living)\s+(?:{_PERSON_WORD})\b"
    rf"|\bteam\s+(?:of|aus)\s+(?:[\w-]+\s+)?(?:{_PERSON_WORD})\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:kein\w*|nicht|not|no|never|nie|weder|isn't|aren't|'m\s+not)\b", re.IGNORECASE)
_HUMAN = re.compile(
    rf"\b(?:{_SPEAKER})\b(?:[\s,]+[\w'’-]+){{0,2}}?(?:[\s,]+(?:{_MODIFIER}))*[\s,]+(?:{_PERSON_WORD})\b"
    rf"|\b(?:als|as)(?:\s+(?:{_MODIFIER}))*\s+(?:{_PERSON_WORD})\b",
    re.IGNORECASE,
)
_NOT_A_MACHINE = re.compile(
    rf"\b(?:kein|keine|keiner|nicht|not|no|never|nie)\s+(?:(?:ein|eine|einen|a|an|the|der|die|so\s+ein|just\s+a"
    rf"|typische[rn]?|simple[rn]?|blo(?:ß|ss)e[rn]?|dumme[rn]?|digitale[rn]?|virtuelle[rn]?|automatische[rn]?"
    rf"|echte[rn]?|real|actual|simple|digital|virtual|automated)\s+){{0,2}}(?:{_MACHINE_WORD})\b",
    re.IGNORECASE,
)
# A name is capitalised; the introductions around it are matched in any case.
_NAME = r"([A-ZÄÖÜ][\w-]+)"
_PERSONA = re.compile(
    rf"(?i:\bmy\s+name\s+is|\bmy\s+name's|\bthis\s+is|\bich\s+heiße|\bich\s+heisse|\bmein\s+name\s+ist"
    rf"|\bhier\s+(?:ist|spricht|schreibt)|\bgrü(?:ß|ss)en?|\bgru(?:ß|ss)|\bregards|\bcheers|\bbest|\bthanks)\s*,?\s+{_NAME}"
    rf"|(?i:\bI(?:'m|’m| am)|\bich\s+bin)\s+(?:(?i:herr|frau|mr|mrs|ms|dr)\.?\s+)?{_NAME}(?=\s*(?:[,.!]|$)|\s+(?i:from|of|at|vom|von|aus|and|und|here|hier)\b)"
    rf"|(?:^|[.!?]\s+|(?i:hi|hey|hallo|hello|moin|servus)\s*,?\s+){_NAME}\s+(?i:hier|here)\b\s*[,.!:–-]"
    rf"|[–—-]\s*{_NAME}\s*$"
)
_NOT_NAMES = frozenset({"ihr", "ihre", "ihnen", "sie", "der", "die", "das", "ein", "eine", "your", "the", "a", "an", "it", "our", "unser", "unsere"})


def _human_claims(text: str, grounds: Grounds) -> Iterator[Violation]:
    sources = " ".join(grounds.sources).lower()
    for match in _HUMAN.finditer(text):
        if not _NEGATION.search(match.group(0)):  # "ich bin kein Mensch" is the truth
            yield Violation("human_claim", match.group(0))
    for match in _REAL_PEOPLE.finditer(text):
        if match.group(0).lower() not in sources and not _NEGATION.search(text[max(0, match.start() - 12) : match.start()]):
            yield Violation("human_claim", match.group(0))
    for match in _NOT_A_MACHINE.finditer(text):
        if match.group(0).lower() not in sources:
            yield Violation("human_claim", match.group(0))
    # A name the entries use ("Lindenau-App") is no persona; any other name than the bot's is.
    known = {grounds.bot_name.lower(), *_NOT_NAMES} | set(_words(" ".join(grounds.sources)))
    for match in _PERSONA.finditer(text):
        name = next(g for g in match.groups() if g)
        if name.lower() not in known:
            yield Violation("persona", match.group(0).strip())


# --- marketing content without consent ----------------------------------------------------

_PROMOTION: tuple[re.Pattern[str], ...] = tuple(
    re.compile(rf"\b{p}\b", re.IGNORECASE)  # German compounds: "Willkommensbonus", "Treuerabatt"
    for p in (
        r"\w*rabatt\w*",
        r"\w*gutschein\w*",
        r"\w*gutschrift\w*",
        r"\w*nachlass\w*",
        r"\w*sonderangebot\w*",
        r"aktion(?:en|s\w+)?",
        r"angebot(?:e|en)?",
        r"\w*newsletter\w*",
        r"discount\w*",
        r"vouchers?",
        r"coupons?",
        r"promo(?:tion)?s?",
        r"special\s+offers?",
        r"deals?",
        r"spar(?:en|t|st|e|preis\w*)",
        r"günstig\w*",
        r"preiswert\w*",
        r"exklusiv\w*",
        r"umsonst",
        r"geschenkt",
        r"\w*bonus\w*",
        r"\w*prämie\w*",
        r"\w*cashback\w*",
        r"vorteilspreis\w*",
        r"jetzt\s+(?:zugreifen|sichern|bestellen|wechseln|profitieren)",
        r"nur\s+(?:für\s+kurze\s+zeit|heute|noch)",
        r"weniger\s+zahlen",
        r"abonnier\w*",
        r"offers?",
        r"sales?",
        r"sav(?:e|es|ing|ings)",
        r"bargains?",
        r"cheap\w*",
        r"exclusive\w*",
        r"rewards?",
        r"limited\s+time",
        r"pay\s+less",
        r"subscri(?:be|ption)\w*",
        r"sign\s+up",
    )
)
_SHINGLE = 4  # this many words in a row shared with withheld content count as copied


def _marketing(text: str, grounds: Grounds) -> Iterator[Violation]:
    sources = " ".join(grounds.sources)
    for pattern in _PROMOTION:
        match = pattern.search(text)
        if match and not pattern.search(sources):
            yield Violation("marketing", match.group(0))
    allowed = _shingles(sources)
    said = _shingles(text)
    for withheld in grounds.withheld:
        words = _words(withheld)
        if len(words) < _SHINGLE:  # a short title: match it as a phrase
            phrase = withheld.strip()
            said_it = re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE)
            if phrase and said_it and phrase.lower() not in sources.lower():
                yield Violation("marketing", phrase)
            continue
        copied = (_shingles(withheld) & said) - allowed
        if copied:
            yield Violation("marketing", " ".join(sorted(copied)[0]))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}
