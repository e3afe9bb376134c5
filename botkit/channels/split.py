"""Split styled text into bubbles and shorten titles, measuring in the channel's unit.

Bubbles break at the best boundary that fits: a blank line, a line break, a sentence end,
a space outside a markup span, a space inside one (the span is closed and reopened), and
only when a single word or URL is longer than the hard limit, inside that word. Content
is never dropped: only the whitespace at a break disappears.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from botkit.channels.markup import Styled
from botkit.channels.profiles import LengthUnit, get_profile
from botkit.channels.sms import gsm7_septets, sms_info, utf16_units

# Break ranks, best first.
PARAGRAPH, LINE, SENTENCE, WORD, IN_SPAN, CUT = 5, 4, 3, 2, 1, 0

_WORD_RE = re.compile(r"\S+")
_CLOSING = "\"'»«“”’)]}"
_OPENING = "\"'„“«»‚‘([{¿¡"
_ORDINAL_RE = re.compile(r"\d+\.")
# Abbreviations that end in a period but rarely end a sentence (German first), lower case.
_ABBREVIATIONS = frozenset(
    """z.b. bzw. ca. nr. usw. etc. d.h. u.a. dr. prof. st. inkl. exkl. ggf. evtl. vgl.
    str. tel. mo. di. mi. do. fr. sa. so. jan. feb. mär. apr. jun. jul. aug. sep. sept.
    okt. nov. dez. hr. fa. max. min. zzgl. abs. art. bspw. e.v. gem. lt. u.ä. o.ä. z.t.
    u.u. i.d.r. mind. sog. tsd. mio. mrd. e.g. i.e. vs. mr. mrs. ms. no. approx.""".split()
)


def char_cost(unit: LengthUnit) -> Callable[[str], int]:
    """Cost of one character in a length unit.

    For SMS this is an upper bound that holds whichever encoding the bubble ends up in:
    GSM-7 extension characters take 2 septets, emoji 2 UTF-16 units.
    """
    if unit == "utf16":
        return lambda c: 2 if ord(c) > 0xFFFF else 1
    if unit == "sms":
        return lambda c: max(gsm7_septets(c) or 1, 2 if ord(c) > 0xFFFF else 1)
    return lambda c: 1


def measure_unit(unit: LengthUnit, text: str) -> int:
    """Exact length of `text` in a length unit."""
    if unit == "utf16":
        return utf16_units(text)
    if unit == "sms":
        return sms_info(text).units
    return len(text)


def measure(channel: str, text: str) -> int:
    """Length of `text` in the channel's unit (code points, UTF-16 units, or SMS units).

    For Telegram, whose limits apply after entity parsing, pass the visible text rather
    than MarkdownV2 source. For SMS the unit is septets in GSM-7 and UTF-16 units once a
    character forces UCS-2.
    """
    return measure_unit(get_profile(channel).length_unit, text)


def _breaks_grapheme(text: str, i: int) -> bool:
    """True if a cut before text[i] would split a visible character."""
    if i <= 0 or i >= len(text):
        return False
    c, prev = text[i], text[i - 1]
    return (
        unicodedata.category(c) in ("Mn", "Mc", "Me")
        or c in "\u200d\ufe0e\ufe0f"
        or prev == "\u200d"
        or 0x1F3FB <= ord(c) <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= ord(c) <= 0xE007F  # flag tag sequences
    )


def _safe_cut(text: str, lo: int, cut: int) -> int:
    """Move a cut left (at most a few characters) so it does not split a grapheme."""
    q = cut
    while q > lo + 1 and cut - q < 12 and _breaks_grapheme(text, q):
        q -= 1
    return cut if _breaks_grapheme(text, q) else q


def _ends_sentence(word: str, following: str) -> bool:
    core = word.rstrip(_CLOSING)
    if not core or core[-1] not in ".!?…":
        return False
    if core[-1] == ".":
        bare = core.lstrip(_OPENING).lower()
        if bare in _ABBREVIATIONS or _ORDINAL_RE.fullmatch(bare):
            return False
        if len(bare) == 2 and bare[0].isalpha():  # initials: "A. Meier"
            return False
    start = following.lstrip(_OPENING)
    return not (start and start[0].islower())


@dataclass(frozen=True)
class Split:
    """The bubbles, plus what the hard limit forced."""

    chunks: tuple[Styled, ...]
    total: int  # estimated cost of the whole text, as used for the split
    cut_words: tuple[int, ...]  # cost of each word that had to be cut at the hard limit
    target: int  # bubble target actually used (grown to respect max_chunks)


def split_styled(
    styled: Styled,
    *,
    target: int,
    hard: int,
    cost_of: Callable[[str], int],
    marker_cost: int = 0,
    max_chunks: int | None = None,
    slack: float = 0.0,
) -> Split:
    """Split styled text into chunks of at most `hard` units, aiming at `target` each.

    Args:
        cost_of: cost of one visible character (see `char_cost`).
        marker_cost: cost of one markup marker (1 for WhatsApp's `*`, 0 where markup is
            free or absent). Costs are upper bounds, so a rendered chunk never exceeds
            `hard` even when the renderer merges spans.
        max_chunks: when the text would need more chunks at `target`, the target grows
            (up to `hard`) rather than the number of chunks.
        slack: a rest of up to `target * (1 + slack)` stays one chunk instead of leaving
            a short remainder (a lone link line, say).
    """
    text, flags = styled.text, styled.flags
    n = len(text)
    cp = [0] * (n + 1)
    mk = [0] * (n + 1)
    for i, c in enumerate(text):
        cp[i + 1] = cp[i] + cost_of(c)
        opens_segment = flags[i] and (i == 0 or flags[i] != flags[i - 1])
        mk[i + 1] = mk[i] + (2 * bin(flags[i]).count("1") * marker_cost if opens_segment else 0)

    def cost(a: int, b: int) -> int:
        c = cp[b] - cp[a] + mk[b] - mk[a]
        if a > 0 and flags[a] and flags[a] == flags[a - 1]:  # starts inside a span
            c += 2 * bin(flags[a]).count("1") * marker_cost
        return c

    # Words as (start, end, rank of the break before them); cut over-long words.
    words: list[tuple[int, int, int]] = []
    cut_words: list[int] = []
    prev_end = -1
    for match in _WORD_RE.finditer(text):
        s, e = match.span()
        if prev_end < 0:
            rank = PARAGRAPH
        else:
            gap = text[prev_end:s]
            newlines = gap.count("\n")
            if newlines >= 2:
                rank = PARAGRAPH
            elif newlines:
                rank = LINE
            elif _ends_sentence(text[words[-1][0] : prev_end], text[s:e]):
                rank = SENTENCE
            elif any(flags[prev_end:s]):
                rank = IN_SPAN
            else:
                rank = WORD
        prev_end = e
        if cost(s, e) <= hard:
            words.append((s, e, rank))
            continue
        cut_words.append(cost(s, e))
        p = s
        while cost(p, e) > hard:
            lo, hi = p + 1, e  # largest q with cost(p, q) <= hard, by bisection
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if cost(p, mid) <= hard:
                    lo = mid
                else:
                    hi = mid - 1
            q = _safe_cut(text, p, lo)
            words.append((p, q, rank))
            rank = CUT
            p = q
        words.append((p, e, rank))

    if not words:
        return Split((), 0, (), target)
    total = cost(words[0][0], words[-1][1])
    target = max(1, min(target, hard))
    if max_chunks and math.ceil(total / target) > max_chunks:
        # 10 % slack so good breaks near the even share still fit.
        target = min(hard, max(target, math.ceil(total * 1.1 / max_chunks)))

    chunks: list[Styled] = []
    i = 0
    while i < len(words):
        start = words[i][0]
        rest = cost(start, words[-1][1])
        if rest <= min(hard, target * (1 + slack)):
            chunks.append(styled[start : words[-1][1]])
            break
        aim = rest / math.ceil(rest / target)
        # With a chunk budget, the rest after a break must fit the chunks still allowed.
        slots = max_chunks - len(chunks) - 1 if max_chunks else 0
        best: int | None = None
        best_key: tuple[bool, bool, int, float] = (False, False, -1, 0.0)
        last_fit: int | None = None
        for e in range(i, len(words) - 1):
            size = cost(start, words[e][1])
            if size > target:
                break
            last_fit = e
            fits_budget = slots < 1 or cost(words[e + 1][0], words[-1][1]) <= slots * target
            # Best: within budget, not too short, then the best boundary nearest the aim.
            key = (fits_budget, size >= aim / 2, words[e + 1][2], -abs(size - aim))
            if key > best_key:
                best, best_key = e, key
        if not best_key[1]:
            # Every break is short of half the aim (a huge word follows): fill the chunk.
            # Both conditions only grow with the chunk, so last_fit is in the best class.
            best = last_fit
        end = best if best is not None else i
        chunks.append(styled[start : words[end][1]])
        i = end + 1
    return Split(tuple(chunks), total, tuple(cut_words), target)


def truncate_bytes(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits `limit` bytes."""
    data = text.encode("utf-8", "surrogatepass")[:limit]
    return data.decode("utf-8", "ignore")


def shorten(text: str, limit: int, measure: Callable[[str], int] = len) -> str:
    """Cut `text` to `limit` units with a trailing "…", at a space when one is near."""
    if measure(text) <= limit:
        return text
    budget = limit - 1  # "…" costs one unit in every length unit
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix within budget
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    cut = _safe_cut(text, 0, lo)
    space = text.rfind(" ", 0, cut + 1)
    if space >= 0.6 * cut:
        cut = space
    head = text[:cut].rstrip(" ,;:-–")
    return (head or text[:cut]) + "…"


def shorten_unique(titles: Sequence[str], limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Shorten each title to `limit` units so that all results stay distinct.

    Titles that fit stay as they are. A shortened title that collides (case-insensitive)
    with another one keeps its last word ("Öffnungszeiten… Sonntag"), and failing that
    gets a number ("Öffnungszeiten am…2"). The input titles must be distinct.
    """
    fitting = [t.casefold() for t in titles if measure(t) <= limit]
    first = {i: shorten(t, limit, measure) for i, t in enumerate(titles) if measure(t) > limit}
    keys = fitting + [s.casefold() for s in first.values()]
    taken = set(fitting)
    out: list[str] = []
    for i, title in enumerate(titles):
        if i not in first:
            out.append(title)
            continue
        candidates = _title_candidates(title, limit, measure)
        if keys.count(first[i].casefold()) > 1:
            # Every member of a colliding group shows its tail, not just the later ones.
            next(candidates)
        for candidate in candidates:
            if candidate.casefold() not in taken:
                break
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def _title_candidates(title: str, limit: int, measure: Callable[[str], int]) -> Iterator[str]:
    yield shorten(title, limit, measure)
    head, _, tail = title.rpartition(" ")
    if head and measure(tail) <= limit // 2:
        yield shorten(head, limit - measure(tail) - 1, measure) + " " + tail
    n = 1
    while True:
        number = str(n)
        yield shorten(title, limit - len(number), measure) + number
        n += 1
