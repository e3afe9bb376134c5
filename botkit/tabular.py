"""Read CSV text the way spreadsheet programs write it (comma or semicolon, quoted cells); write cells they show as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

SPREADSHEET_DELIMITERS = ";,\t"
"""What client exports use: German Excel's semicolon first, then comma and tab."""


def sniff_delimiter(text: str, candidates: str = ",;") -> str:
    """The candidate the header line holds most of; on a tie the one listed first."""
    header = text.split("\n", 1)[0]
    return max(candidates, key=header.count)


def csv_rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The lower-cased header and the non-blank rows with the line each starts on.

    The separator is a semicolon when the header has more of them than commas (German
    Excel), else a comma; line numbers count the physical lines of multi-line cells.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header = [h.strip().lower() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 2
        for row in reader:
            line, start = start, reader.line_num + 1
            if any(cell.strip() for cell in row):
                yield line, row

    return header, rows()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Cell beginnings spreadsheet programs run as a formula (OWASP "CSV Injection")."""


def spreadsheet_safe(value: object) -> object:
    """A cell value that Excel, LibreOffice and Sheets show as text: `'` before a formula start; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
