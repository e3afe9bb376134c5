"""Logging without personal data or secrets: masked ids, and secrets scrubbed from records."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

log = logging.getLogger("botkit.webhook")

# Loggers that may see a secret: the Telegram token is part of send-API paths (httpx logs
# every request line) and the verify token arrives in a query string (uvicorn access log).
_GUARDED = ("botkit.webhook", "httpx", "httpcore", "uvicorn", "uvicorn.access", "uvicorn.error")
_PATTERNS = (
    re.compile(r"(hub\.verify_token=)[^&\s\"']*"),
    re.compile(r"(/bot)\d+(?::|%3A)[A-Za-z0-9_-]+", re.IGNORECASE),
)
# SQLAlchemy appends the statement's parameters (phone numbers, message texts) to its errors.
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$|\s*\(Background)", re.DOTALL)
# Phone numbers and platform user ids: seven or more digits, maybe after a `+`.
_LONG_NUMBER = re.compile(r"\+?(?<!\d)\d{7,}(?!\d)")
_TRACEBACKS = logging.Formatter()


def mask(value: object) -> str:
    """An id or phone number for logs: only its last three characters, e.g. "…243"."""
    text = str(value)
    return "…" + text[-3:] if len(text) > 3 else "…"


class SecretScrubber(logging.Filter):
    """Hides secrets and personal data in log records: in the message, its arguments and exception text.

    Known secrets, verify tokens in URLs and Telegram bot tokens become `***`; SQL parameters
    in database errors are dropped; digit runs as long as a phone number or platform user id
    keep only their last three digits. The record keeps its shape (uvicorn's access formatter
    unpacks `record.args`), so only the values inside are replaced.
    """

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
        text = _SQL_PARAMETERS.sub("[parameters hidden]", text)
        return _LONG_NUMBER.sub(lambda m: mask(m.group()), text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            return True  # a malformed record: the handler reports it as logging always does
        clean = self.scrub(message)
        if clean != message:
            args = self._scrub_args(record.args)
            if _formatted(record.msg, args) == clean:
                record.args = args  # shape kept: uvicorn's access formatter unpacks record.args
            else:
                record.msg, record.args = clean, ()  # the secret spans template and arguments
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: format the traceback once, scrubbed.
            record.exc_text = self.scrub(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True

    def _scrub_args(self, args: tuple[object, ...] | Mapping[str, object] | None) -> tuple[object, ...] | Mapping[str, object] | None:
        if isinstance(args, tuple):
            return tuple(self._scrub_value(a) for a in args)
        if isinstance(args, Mapping):
            return {k: self._scrub_value(v) for k, v in args.items()}
        return args

    def _scrub_value(self, value: object) -> object:
        """A str scrubbed; another value replaced by its scrubbed text only when that differs."""
        text = value if isinstance(value, str) else str(value)
        clean = self.scrub(text)
        return value if clean == text else clean


def _formatted(msg: object, args: object) -> str | None:
    try:
        return str(msg) % args if args else str(msg)
    except (TypeError, ValueError, KeyError):
        return None


_SCRUBBER = SecretScrubber()


def guard_logs(secrets: Iterable[str]) -> SecretScrubber:
    """Scrub `secrets` from every record of the loggers that could carry them; returns the filter."""
    _SCRUBBER.add(secrets)
    for name in _GUARDED:
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)
    return _SCRUBBER


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and, where known, the masked conversation id.

    Records are scrubbed by `SecretScrubber` (a logger filter) before any handler formats them.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        conversation = getattr(record, "conversation", None)
        if conversation is not None:
            line["conversation"] = conversation
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def json_logs_wanted() -> bool:
    """Whether `BOTKIT_LOG_FORMAT=json` asks for JSON log lines."""
    return os.environ.get("BOTKIT_LOG_FORMAT", "").strip().lower() == "json"
