"""Knowledge-answer markup in, channel markup out.

Answers in the knowledge base use a tiny subset: `*bold*`, `_italic_` (nestable once) and
bare URLs. The rules follow WhatsApp's: a marker opens before a non-space character and
after a non-alphanumeric one (or the start), closes after a non-space character and
before a non-alphanumeric one (or the end), and a span never crosses a line break.
Markers inside URLs are literal, so `https://a.de/x_y_z` stays a link.

Output: WhatsApp keeps the same syntax (it has no escaping, so `~` or a stray `*` that
WhatsApp itself would read as markup cannot be protected); Telegram gets MarkdownV2 with
every reserved character escaped; SMS, Messenger and web get plain text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal

from botkit.errors import ChannelError

BOLD = 1
ITALIC = 2
_MARKER_FLAG = {"*": BOLD, "_": ITALIC}
_FLAG_MARKER = {BOLD: "*", ITALIC: "_"}

Markup = Literal["whatsapp", "markdownv2", "plain"]

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
# Characters that end a sentence or a clause rather than a URL.
_URL_TRAILING = ".,;:!?'\"»«“”„’*_"
_MDV2_RESERVED = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")


@dataclass(frozen=True)
class Styled:
    """Visible text with a style per character (0, BOLD, ITALIC or BOLD | ITALIC)."""

    text: str
    flags: tuple[int, ...]

    @classmethod
    def plain(cls, text: str) -> Styled:
        """Text without any style: nothing in it is read as markup."""
        return cls(text, (0,) * len(text))

    def __add__(self, other: Styled) -> Styled:
        return Styled(self.text + other.text, self.flags + other.flags)

    def __getitem__(self, index: slice) -> Styled:
        return Styled(self.text[index], self.flags[index])

    def __len__(self) -> int:
        return len(self.text)


def find_urls(text: str) -> list[tuple[int, int]]:
    """Start and end of each bare URL, without trailing punctuation."""
    spans = []
    for match in URL_RE.finditer(text):
        start, end = match.span()
        while end > start:
            last = text[end - 1]
            if last in _URL_TRAILING:
                end -= 1
            elif last in ")]}":
                # Keep a closing bracket the URL opened itself (Wikipedia-style links).
                opening = {")": "(", "]": "[", "}": "{"}[last]
                url = text[start:end]
                if url.count(opening) >= url.count(last):
                    break
                end -= 1
            else:
                break
        if end > start:
            spans.append((start, end))
    return spans


def parse_markup(text: str) -> Styled:
    """Parse knowledge markup (`*bold*`, `_italic_`, bare URLs) into styled visible text."""
    if "*" not in text and "_" not in text:
        return Styled.plain(text)
    in_url = bytearray(len(text))
    for start, end in find_urls(text):
        in_url[start:end] = b"\x01" * (end - start)
    flags = [0] * len(text)
    is_marker = bytearray(len(text))

    def opens(i: int, hi: int) -> bool:
        c = text[i]
        prev = text[i - 1] if i > 0 else " "
        nxt = text[i + 1] if i + 1 < hi else " "
        return not (prev.isalnum() or prev == c or nxt.isspace() or nxt == c)

    def closes(j: int) -> bool:
        c = text[j]
        prev = text[j - 1] if j > 0 else " "
        nxt = text[j + 1] if j + 1 < len(text) else " "
        return not (prev.isspace() or prev == c or nxt.isalnum() or nxt == c)

    # Where a closer may stand does not depend on the opener, so find them once: the
    # scan below stays O(n log n) even for long answers full of stray asterisks.
    closers = {m: [j for j, c in enumerate(text) if c == m and not in_url[j] and closes(j)] for m in _MARKER_FLAG}
    line_ends = [j for j, c in enumerate(text) if c == "\n"] + [len(text)]

    def scan(lo: int, hi: int, allowed: int) -> None:
        i = lo
        while i < hi:
            flag = _MARKER_FLAG.get(text[i], 0)
            if flag & allowed and not in_url[i] and opens(i, hi):
                candidates = closers[text[i]]
                k = bisect_left(candidates, i + 2)
                stop = min(hi, line_ends[bisect_left(line_ends, i)])
                if k < len(candidates) and candidates[k] < stop:
                    j = candidates[k]
                    is_marker[i] = is_marker[j] = 1
                    for m in range(i + 1, j):
                        flags[m] |= flag
                    scan(i + 1, j, allowed & ~flag)
                    i = j + 1
                    continue
            i += 1

    scan(0, len(text), BOLD | ITALIC)
    keep = [i for i in range(len(text)) if not is_marker[i]]
    return Styled("".join(text[i] for i in keep), tuple(flags[i] for i in keep))


def escape_markdown_v2(text: str) -> str:
    """Escape every MarkdownV2 reserved character (outside code and link entities)."""
    return _MDV2_RESERVED.sub(r"\\\1", text)


def _unstyle_edge_spaces(styled: Styled) -> list[int]:
    """Flags where whitespace keeps a style only if the text on both sides has it.

    A marker next to a space is not markup on WhatsApp (`*fett *` stays literal), so a
    styled span must start and end with a visible character.
    """
    text, flags = styled.text, list(styled.flags)
    n = len(text)
    left = [0] * n
    last = 0
    for i in range(n):
        left[i] = last
        if not text[i].isspace():
            last = flags[i]
    last = 0
    for i in range(n - 1, -1, -1):
        if text[i].isspace():
            flags[i] &= left[i] & last
        else:
            last = flags[i]
    return flags


def render_markup(styled: Styled, markup: Markup) -> str:
    """Write styled text in a channel's markup: WhatsApp, Telegram MarkdownV2 or plain."""
    if markup == "plain":
        return styled.text
    escape = escape_markdown_v2 if markup == "markdownv2" else (lambda s: s)
    flags = _unstyle_edge_spaces(styled)
    runs: list[tuple[str, int]] = []
    start = 0
    for i in range(1, len(flags) + 1):
        if i == len(flags) or flags[i] != flags[start]:
            runs.append((styled.text[start:i], flags[start]))
            start = i
    out: list[str] = []
    stack: list[int] = []
    for r, (chunk, target) in enumerate(runs):
        # Close every open style the run lacks, and whatever was opened inside it.
        for depth, flag in enumerate(stack):
            if not flag & target:
                for closing in reversed(stack[depth:]):
                    out.append(_FLAG_MARKER[closing])
                del stack[depth:]
                break
        # Open missing styles outermost first: the one that lasts longer must enclose
        # the other, or the nesting breaks (Telegram rejects crossed entities).
        new = [f for f in (BOLD, ITALIC) if f & target and f not in stack]

        def extent(flag: int, r: int = r) -> int:
            n = 0
            while r + n < len(runs) and runs[r + n][1] & flag:
                n += 1
            return n

        for flag in sorted(new, key=extent, reverse=True):
            out.append(_FLAG_MARKER[flag])
            stack.append(flag)
        out.append(escape(chunk))
    out.extend(_FLAG_MARKER[f] for f in reversed(stack))
    return "".join(out)


def to_plain(text: str) -> str:
    """Knowledge markup as plain visible text (markers removed, URLs kept)."""
    return parse_markup(text).text


def check_markdown_v2(text: str) -> str:
    """Validate Telegram MarkdownV2 and return the visible text.

    Accepts escapes and the toggling entities `*`, `_`, `__`, `~`, `||` (properly nested,
    non-empty, closed); any other unescaped reserved character raises `ChannelError`,
    which is what Telegram answers with "can't parse entities".
    """
    visible: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or not 1 <= ord(text[i + 1]) <= 126:
                raise ChannelError(f"MarkdownV2: lone backslash at {i} in {text!r}")
            visible.append(text[i + 1])
            i += 2
            continue
        token = text[i : i + 2] if text[i : i + 2] in ("__", "||") else c
        if token in ("*", "_", "__", "~", "||"):
            if stack and stack[-1][0] == token:
                if stack[-1][1] == len(visible):
                    raise ChannelError(f"MarkdownV2: empty {token!r} entity at {i} in {text!r}")
                stack.pop()
            elif any(t == token for t, _ in stack):
                raise ChannelError(f"MarkdownV2: crossed {token!r} entity at {i} in {text!r}")
            else:
                stack.append((token, len(visible)))
            i += len(token)
            continue
        if _MDV2_RESERVED.fullmatch(c):
            raise ChannelError(f"MarkdownV2: unescaped {c!r} at {i} in {text!r}")
        visible.append(c)
        i += 1
    if stack:
        raise ChannelError(f"MarkdownV2: unclosed {stack[-1][0]!r} entity in {text!r}")
    return "".join(visible)
