"""What a business-initiated message (a campaign) needs from a platform, as data.

Each platform module says who can be reached first and when (`Reach`), the send rates it
documents (`RateLimit`, cited and dated, with a status like the limits in
`channels/profiles.py`) and which rejections mean "too fast" (`throttle`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

WINDOW_SECONDS = 24 * 3600  # WhatsApp customer service window; Messenger standard messaging window

Scope = Literal["sender", "recipient"]
"""A limit per business sender (WhatsApp phone number, Facebook Page, Telegram bot) or per user."""

Unreached = Literal["outside_window", "unreachable"]
"""Why a consented user cannot be sent a business-initiated message now."""


@dataclass(frozen=True)
class RateLimit:
    """A documented send rate: at most `per_second` messages per `scope`."""

    scope: Scope
    per_second: float
    source: str  # where it is documented, with the date it was read
    status: Literal["official", "secondary"]  # read on the platform's own page, or a consistent secondary copy
    note: str = ""


@dataclass(frozen=True)
class Reach:
    """How a business-initiated message can reach a user: as text, as a template, or not (with the reason)."""

    mode: Literal["text", "template"] | None
    reason: str = ""
    why: Unreached | None = None
    template: str | None = None

    @staticmethod
    def text() -> Reach:
        return Reach("text")

    @staticmethod
    def not_now(why: Unreached, reason: str) -> Reach:
        return Reach(None, reason, why)


def within_window(last_user_at: float | None, now: float) -> bool:
    """True if the user wrote less than 24 hours ago."""
    return last_user_at is not None and now - last_user_at <= WINDOW_SECONDS


_CODE = re.compile(r'"(?:code|error_code)"\s*:\s*(\d+)')


def error_codes(error: str) -> set[int]:
    """The numeric error codes in a send-API error body (Graph API `code`, Telegram `error_code`)."""
    return {int(c) for c in _CODE.findall(error)}


def limit(limits: tuple[RateLimit, ...], scope: Scope) -> RateLimit | None:
    """The limit of `scope` among a platform's `rate_limits`, if it documents one."""
    return next((r for r in limits if r.scope == scope), None)
