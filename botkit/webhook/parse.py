"""Webhook bodies into `Inbound` events, by the platform's own parser (`botkit.platforms`).

Pure: bytes in, dataclasses out. The envelope is checked strictly (a wrong one raises
`PayloadError`, answered with 400); events inside it that botkit does not handle (media,
reactions, referrals, delivery receipts, future types) come back with kind "other" so the
webhook can acknowledge and ignore them instead of making the platform redeliver.
"""

from __future__ import annotations

from collections.abc import Mapping

from botkit.errors import PayloadError
from botkit.platforms import ANSWERED_KINDS, HANDOVER_KINDS, PERSON_KINDS, Inbound, Kind, webhook_platforms


def parse(platform: str, body: bytes, headers: Mapping[str, str] | None = None) -> list[Inbound]:
    """Parse one webhook body of `platform` (one with a webhook in `botkit.platforms`, e.g. "telegram").

    Raises:
        PayloadError: an unknown platform, not UTF-8 JSON, or not the platform's envelope.
    """
    served = {p.name: p for p in webhook_platforms()}
    if platform not in served:
        raise PayloadError(f"unknown platform {platform!r}; known: {', '.join(served)}")
    return served[platform].parse(body, headers or {})


__all__ = ["ANSWERED_KINDS", "HANDOVER_KINDS", "PERSON_KINDS", "Inbound", "Kind", "parse"]
