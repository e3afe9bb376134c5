"""The one form in which a user's message is embedded, by the intent matcher and the retriever alike.

A reply embeds its message once: `botkit.policy.intents` and `botkit.retrieve` both embed
`embedding_form(text)`, so with both on one `botkit.embedcache.EmbeddingCache` the second
finds the first's vector. The form is light: compatibility characters folded (NFKC), format
characters (soft hyphen, zero-width space) and emoji variation selectors dropped, repeated
punctuation and letters stretched for emphasis collapsed ("Dankeee!!!" -> "Danke!"), spacing
collapsed; case is kept. Chosen on tuning data (benchmarks/README.md, "Speed"): casefolded
messages cost the retriever top-1 on the sample and the German FAQ. The intent matcher only
screens messages in this form; one near a kind is decided on its casefolded form, on which
the matcher's thresholds were measured (they are unchanged).
"""

from __future__ import annotations

import re
import unicodedata

REPEATED_PUNCT = re.compile(r"([^\w\s])\1+")
_REPEATED_CHAR = re.compile(r"([^\W\d_])\1{2,}")  # letters only: "1000" stays
_FORMAT = "Cf"


def clean(text: str) -> str:
    """NFKC without format characters and emoji variation selectors; case and spacing kept."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c) != _FORMAT and c != "\ufe0f")


def squeeze(text: str) -> str:
    """Letters stretched for emphasis shrink to one ("hiii", "dankeee", "Stooop")."""
    return _REPEATED_CHAR.sub(r"\1", text)


def embedding_form(text: str) -> str:
    """The text a message is embedded as (idempotent: the form of a form is itself)."""
    return " ".join(squeeze(REPEATED_PUNCT.sub(r"\1", clean(text))).split())
