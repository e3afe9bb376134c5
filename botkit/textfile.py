"""The one reader for text files people bring: knowledge files, test cases, client exports and chat logs.

UTF-8 (with or without the BOM Excel writes) is read as it is. Anything else is tried as
Windows-1252, what Excel's "CSV (Trennzeichen-getrennt)" writes on German Windows; the result
then carries a notice for the caller to show or log, because a file in another 8-bit encoding
would also decode, with wrong umlauts. A file that is neither, or holds NUL bytes, is refused
with a `Problem` naming file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from botkit.errors import KnowledgeError, Problem
from botkit.strict_yaml import MAX_FILE_BYTES, read_capped

UTF8 = "utf-8"
CP1252 = "cp1252"
SAVE_AS_UTF8 = "save it as 'CSV UTF-8' or UTF-8 text"


@dataclass(frozen=True)
class TextFile:
    """A decoded file: its text, the encoding used and, for Windows-1252, a notice to show."""

    text: str
    encoding: str  # UTF8 or CP1252
    notice: str | None = None


def read_text_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES, name: str | None = None) -> TextFile:
    """Read `path` as UTF-8 (BOM dropped), else as Windows-1252 with a notice.

    Args:
        max_bytes: a larger file is refused before it is read.
        name: how problems and the notice name the file (default: the path).

    Raises:
        KnowledgeError: the file is too large, holds NUL bytes, or is neither UTF-8 nor Windows-1252.
    """
    path = Path(path)
    shown = name or str(path)
    return decode_text(read_capped(path, max_bytes, shown), shown)


def decode_text(data: bytes, name: str) -> TextFile:
    """Decode bytes as `read_text_file` does; `name` is used in problems and the notice."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise KnowledgeError([Problem(name, line, None, f"holds NUL bytes, so it is not a text file (UTF-16?); {SAVE_AS_UTF8}")])
    try:
        return TextFile(data.decode("utf-8-sig"), UTF8)
    except UnicodeDecodeError as exc:
        first_bad = data[: exc.start].count(b"\n") + 1
    try:
        text = data.decode(CP1252)
    except UnicodeDecodeError as exc:
        raise KnowledgeError([Problem(name, first_bad, None, f"is neither UTF-8 nor Windows-1252 text; {SAVE_AS_UTF8}")]) from exc
    notice = f"{name} is not UTF-8 (first at line {first_bad}) and was read as Windows-1252 (cp1252); check its umlauts, or {SAVE_AS_UTF8}"
    return TextFile(text, CP1252, notice)
