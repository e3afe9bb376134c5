"""Logging without personal data or secrets: masked ids, and secrets scrubbed from records."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote

log = logging.getLogger("botkit.webhook")

# Loggers that may see a secret: the Telegram token is part of send-API paths (httpx logs
# every request line) and the verify token arrives in a query string (uvicorn access log).
_GUARDED = ("botkit.webhook", "httpx", "httpcore", "uvicorn", "uvicorn.access", "uvicorn.error")
_PATTERNS = (
    re.compile(r"(hub\.verify_token=)[^&\s\"']*"),
    re.compile(r"(/bot)\d+(?::|%3A)[A-Za-z0-9_-]+", re.IGNORECASE),
)


def mask(value: object) -> str:
    """An id or phone number for logs: only its last three characters, e.g. "…243"."""
    text = str(value)
    return "…" + text[-3:] if len(text) > 3 else "…"


class SecretScrubber(logging.Filter):
    """Replaces known secrets, verify tokens in URLs and Telegram bot tokens by `***`."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        """Also scrub these values, as they are and URL-encoded (longest first: one inside another goes too)."""
        for secret in filter(None, secrets):
            self._secrets.update({secret, quote(secret, safe="")})

    def scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_SCRUBBER = SecretScrubber()


def guard_logs(secrets: Iterable[str]) -> SecretScrubber:
    """Scrub `secrets` from every record of the loggers that could carry them; returns the filter."""
    _SCRUBBER.add(secrets)
    for name in _GUARDED:
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)
    return _SCRUBBER
