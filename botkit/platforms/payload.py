"""Strict readers for webhook JSON: each failure is a `PayloadError` naming the place."""

from __future__ import annotations

import json
from typing import Any

from botkit.errors import PayloadError


def load(body: bytes) -> Any:
    """Decode a UTF-8 JSON body.

    Raises:
        PayloadError: not UTF-8, not JSON, or nested too deeply.
    """
    # utf-8-sig: fixture files (not the platforms) carry a BOM, which json.loads(str) rejects.
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise PayloadError("body is nested too deeply") from exc


def obj(value: Any, where: str) -> dict[str, Any]:
    """`value` as a JSON object."""
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


def items(value: Any, where: str) -> list[Any]:
    """`value` as a JSON array."""
    if not isinstance(value, list):
        raise PayloadError(f"{where} must be a list")
    return value


def ident(value: Any, where: str) -> str:
    """An id that platforms send as a string (Meta) or a number (Telegram, Chatwoot)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise PayloadError(f"{where} must be a non-empty string or number")
    return str(value)


def text(value: Any, where: str) -> str:
    """A string, or "" for null."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string")
    return value


def choice_text(title: str, payload: str) -> str:
    """The words of a chosen option: the title, or the payload when it is the fuller title.

    botkit's renderers put the whole option title (cut only to the byte limit) into the
    payload and may shorten the shown title with "…"; other payloads are opaque codes.
    """
    shown, data = title.strip(), payload.strip()
    if not shown or not data:
        return shown or data
    stem = shown.rstrip("…. ").casefold()
    return data if len(data) > len(stem) and data.casefold().startswith(stem) else shown
