"""Small text helpers shared by the workbench: column names, slugs and ids (files are read by `botkit.textfile`)."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


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
