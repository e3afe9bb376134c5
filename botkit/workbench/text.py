"""Small text helpers shared by the workbench readers: decoding, column names, slugs and ids."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from botkit.strict_yaml import MAX_FILE_BYTES, read_capped

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A text file as UTF-8 (with or without BOM), else as Windows-1252; `KnowledgeError` above `max_bytes`."""
    data = read_capped(path, max_bytes, path.name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV (Trennzeichen-getrennt)" on German Windows writes Windows-1252.
        return data.decode("cp1252", errors="replace")


def normalize_name(name: str) -> str:
    """Lower-case letters and digits only, umlauts spelled out: "Weitere Formulierungen" -> "weitereformulierungen"."""
    text = unicodedata.normalize("NFC", str(name)).lower().translate(_UMLAUTS)
    return re.sub(r"[^a-z0-9]", "", text)


def slugify(text: str) -> str:
    """A botkit id or topic: "Zähler & Messung" -> "zaehler-messung"."""
    text = unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def unique_id(base: str, used: set[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... whichever is not in `used` yet."""
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
