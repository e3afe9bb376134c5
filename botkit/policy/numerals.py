"""Numbers written as words, German and English, rewritten as digits ("neunzehn Euro" -> "19 Euro").

German numbers are one word ("zweihundertneunundneunzig"); English ones are a run of words
("two hundred and ninety-nine"). A run of single digits read out one by one ("null acht null
null", "one two three") stays a run of separate digits, so a spelled phone number becomes one.
The articles "ein", "eine", "a" and "one" count only before another number word, a currency or
a unit ("eine Stunde", "an hour"): "ein Foto" is no number. Ordinals become "12." in German
("zwölften Dezember" -> "12. Dezember") and "15th" in English; the common first three
("ersten", "third party") and "achten" (also a verb) are left alone.
"""

from __future__ import annotations

import re

_DE_UNITS = {
    "null": 0,
    "eins": 1,
    "ein": 1,
    "eine": 1,
    "zwei": 2,
    "zwo": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
}
_DE_TENS = {
    "zwanzig": 20,
    "dreißig": 30,
    "dreissig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
_EN_SMALL = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_EN_SCALES = {"hundred": 100, "thousand": 1000}
_ARTICLES = frozenset({"ein", "eine", "einen", "a", "an", "one"})
_CURRENCY_WORDS = frozenset({"euro", "eur", "cent", "dollar", "dollars", "pounds", "franken", "€", "$", "£"})
_UNIT_WORDS = frozenset(
    {
        "minute",
        "stunde",
        "tag",
        "tage",
        "woche",
        "monat",
        "jahr",
        "kw",
        "kwh",
        "mal",
        "hour",
        "day",
        "week",
        "month",
        "year",
        "time",
    }
)
_DE_ORDINAL = re.compile(r"(.+?)(?:ste|te)[nrms]?")
_DE_NOT_ORDINAL = frozenset({"ein", "eins", "drei", "sieben", "acht", "null"})  # "ersten", "Dritte", "achten Sie"
_EN_ORDINALS = {
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "twelfth": 12,
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
    "hundredth": 100,
    "thousandth": 1000,
    "first": 1,
    "second": 2,
    "third": 3,
}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def words_to_digits(text: str) -> str:
    """`text` with every number word or run of English number words replaced by its digits."""
    out: list[str] = []
    pos = 0
    matches = list(_WORD.finditer(text))
    i = 0
    while i < len(matches):
        match = matches[i]
        word = match.group(0).lower()
        value = _german(word)
        if value is not None and not _bare_article(word, _next_word(text, match.end())):
            out += [text[pos : match.start()], str(value)]
            pos = match.end()
            i += 1
            continue
        ordinal = _german_ordinal(word)
        if ordinal is not None:
            out += [text[pos : match.start()], f"{ordinal}."]
            pos = match.end()
            i += 1
            continue
        end, numbers = _english_run(text, matches, i)
        if numbers:
            out += [text[pos : match.start()], " ".join(numbers)]
            pos = matches[end - 1].end()
            i = end
            continue
        i += 1
    out.append(text[pos:])
    return "".join(out)


def _next_word(text: str, end: int) -> str:
    rest = text[end:].lstrip()
    return rest.split(maxsplit=1)[0].lower().strip(".,;:!?") if rest else ""


def _bare_article(word: str, following: str) -> bool:
    """ "ein Foto", "a photo": an article, not a number."""
    if word.lower() not in _ARTICLES:
        return False
    if following in _CURRENCY_WORDS or following.rstrip("ns") in _UNIT_WORDS or following in _UNIT_WORDS:
        return False
    return _german(following) is None and not _is_english(following)


def _german(word: str) -> int | None:
    """The value of one German number word, or None."""
    for scale, factor in (("tausend", 1000), ("hundert", 100)):
        head, found, tail = word.rpartition(scale)
        if found:
            left = 1 if head in ("", "ein", "eins") else _german(head)
            right = 0 if tail == "" else _german(tail.removeprefix("und"))
            if left is None or right is None or right >= factor or left >= 1000:
                return None
            return left * factor + right
    if word in _DE_UNITS:
        return _DE_UNITS[word]
    if word in _DE_TENS:
        return _DE_TENS[word]
    unit, found, tens = word.partition("und")
    if found and tens in _DE_TENS and unit in _DE_UNITS and 1 <= _DE_UNITS[unit] <= 9:
        return _DE_UNITS[unit] + _DE_TENS[tens]
    return None


def _german_ordinal(word: str) -> int | None:
    match = _DE_ORDINAL.fullmatch(word)
    if not match or match.group(1) in _DE_NOT_ORDINAL:
        return None
    stem = match.group(1)
    value = _german(stem)
    return value if value is not None and value >= 2 else None


def _english_run(text: str, matches: list[re.Match[str]], start: int) -> tuple[int, list[str]]:
    """The numbers read from English number words starting at `matches[start]` and where the run ends."""
    numbers: list[str] = []
    total = current = 0
    started = False
    i = start
    while i < len(matches):
        word = matches[i].group(0).lower()
        if i > start and text[matches[i - 1].end() : matches[i].start()].strip(" -"):
            break  # punctuation between words ends the run
        if word == "and" and started and i + 1 < len(matches) and _is_english(matches[i + 1].group(0).lower()):
            i += 1
            continue
        parts = word.split("-")
        last = parts[-1]
        # "first", "second", "third" only after a tens word ("twenty-first"): alone they are words
        value = _en_ordinal(last)
        ordinal = value is not None and (value > 3 or started or len(parts) > 1)
        if word in ("a", "an") and not started and not _bare_article(word, _next_word(text, matches[i].end())):
            parts = ["one"]  # "a hundred", "an hour"
        elif not all(p in _EN_SMALL or p in _EN_SCALES for p in (parts[:-1] if ordinal else parts)) or (
            not started and not ordinal and word in _ARTICLES and _bare_article(word, _next_word(text, matches[i].end()))
        ):
            break
        for n, part in enumerate(parts):
            if ordinal and value is not None and n == len(parts) - 1:
                part = "hundred" if value == 100 else "thousand" if value == 1000 else ""
                if not part:
                    total, current, started = _add(numbers, total, current, value, started)
            if part in _EN_SCALES:
                if part == "hundred":
                    current = (current or 1) * 100
                else:
                    total += (current or 1) * 1000
                    current = 0
                started = True
            elif part:
                total, current, started = _add(numbers, total, current, _EN_SMALL[part], started)
        i += 1
        if ordinal:
            numbers.append(f"{total + current}th")
            return i, numbers
    if started:
        numbers.append(str(total + current))
    return i, numbers


def _add(numbers: list[str], total: int, current: int, value: int, started: int) -> tuple[int, int, bool]:
    """Add a word below 100 to the number being read; "one two" starts a new number instead."""
    last = current % 100
    if started and not (total or current):  # "zero eight": a leading zero is a digit of its own
        numbers.append("0")
    elif started and not (last == 0 or (last >= 20 and last % 10 == 0 and value < 10)):
        numbers.append(str(total + current))  # "one two three": digits read one by one
        total = current = 0
    return total, current + value, True


def _en_ordinal(word: str) -> int | None:
    if word in _EN_ORDINALS:
        return _EN_ORDINALS[word]
    stem = word.removesuffix("th")
    return _EN_SMALL.get(stem) if stem != word and stem in _EN_SMALL else None


def _is_english(word: str) -> bool:
    return all(p in _EN_SMALL or p in _EN_SCALES for p in word.split("-"))
