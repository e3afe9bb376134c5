"""GSM-7 detection, UCS-2 fallback and SMS segment counting.

One character outside the GSM 03.38 alphabet switches the whole message to UCS-2 and
cuts a segment from 160 to 70 characters. German umlauts and ß are in GSM-7; typographic
quotes and dashes are not, so `prefer_gsm7` replaces them by look-alikes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from botkit.channels.profiles import SMS

# GSM 03.38 basic character set (3GPP TS 23.038), in table order; ESC (0x1B) left out.
GSM7_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# Extension table: each takes two septets (ESC + code).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Look-alikes that keep a message in GSM-7. Only punctuation and spaces: letters keep
# their identity (a "ç" stays and forces UCS-2 rather than turning into "Ç").
_GSM7_LOOKALIKES = str.maketrans(
    {
        "„": '"',
        "“": '"',
        "”": '"',
        "‟": '"',
        "«": '"',
        "»": '"',
        "″": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "‛": "'",
        "‹": "'",
        "›": "'",
        "´": "'",
        "`": "'",
        "′": "'",
        "–": "-",
        "—": "-",
        "‒": "-",
        "―": "-",
        "−": "-",
        "‐": "-",
        "‑": "-",
        "•": "-",
        "…": "...",
        "\t": " ",
        "\u00a0": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u2002": " ",
        "\u2003": " ",
    }
)

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SmsInfo:
    """How a text travels as SMS.

    `ucs2_chars` lists, in order of first appearance, the characters that force UCS-2;
    `units` is the length in septets (GSM-7) or UTF-16 code units (UCS-2). An empty text
    has 0 segments: nothing is sent.
    """

    encoding: Encoding
    segments: int
    ucs2_chars: tuple[str, ...]
    units: int


def prefer_gsm7(text: str) -> str:
    """Replace typographic punctuation and special spaces by GSM-7 look-alikes."""
    return text.translate(_GSM7_LOOKALIKES)


def gsm7_septets(char: str) -> int | None:
    """Septets one character takes in GSM-7, or None when it is not in the alphabet."""
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENSION:
        return 2
    return None


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units (characters beyond U+FFFF take two)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _segments(costs: list[int], single: int, concat: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    # A two-unit character (GSM escape pair, UTF-16 surrogate pair) is never split across
    # segments, so count greedily rather than dividing.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > concat:
            segments += 1
            used = 0
        used += cost
    return segments


def sms_info(text: str) -> SmsInfo:
    """Encoding, segment count and UCS-2-forcing characters of `text` exactly as given.

    Render applies `prefer_gsm7` first; call it yourself to measure what would be sent.
    """
    sizes = SMS.sms
    assert sizes is not None  # the SMS profile always carries segment sizes
    septets = [gsm7_septets(c) for c in text]
    forcing = tuple(dict.fromkeys(c for c, s in zip(text, septets) if s is None))
    if not forcing:
        costs = [s for s in septets if s is not None]
        return SmsInfo("GSM-7", _segments(costs, sizes.gsm7_single, sizes.gsm7_concat), (), sum(costs))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsInfo("UCS-2", _segments(costs, sizes.ucs2_single, sizes.ucs2_concat), forcing, sum(costs))
