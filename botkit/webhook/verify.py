"""Webhook authenticity: Meta's `X-Hub-Signature-256` HMAC and Telegram's secret-token header."""

from __future__ import annotations

import hashlib
import hmac

from botkit.errors import SignatureError

SIGNATURE_HEADER = "x-hub-signature-256"
TELEGRAM_HEADER = "x-telegram-bot-api-secret-token"


def sign(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`: `sha256=` + lower-case hex HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hub_signature(body: bytes, header: str | None, secret: str) -> None:
    """Check a Messenger/WhatsApp body against its `X-Hub-Signature-256` header, in constant time.

    Raises:
        SignatureError: the header is missing, not `sha256=<hex>`, or does not match.
    """
    if not header:
        raise SignatureError("missing X-Hub-Signature-256 header")
    scheme, _, digest = header.partition("=")
    if scheme.strip().lower() != "sha256" or not digest:
        raise SignatureError("X-Hub-Signature-256 must look like 'sha256=<hex digest>'")
    # Meta sends lower-case hex; some SDKs forward upper case. Non-ASCII cannot match and
    # would make compare_digest raise, so it is rejected as a mismatch first.
    given = digest.strip().lower()
    if not given.isascii() or not hmac.compare_digest(sign(body, secret), "sha256=" + given):
        raise SignatureError("X-Hub-Signature-256 does not match the body")


def verify_telegram_token(header: str | None, secret: str) -> None:
    """Check Telegram's `X-Telegram-Bot-Api-Secret-Token` header (set with `setWebhook(secret_token=...)`).

    Raises:
        SignatureError: the header is missing or differs from the configured token.
    """
    if not header:
        raise SignatureError("missing X-Telegram-Bot-Api-Secret-Token header")
    if not header.isascii() or not hmac.compare_digest(header.encode(), secret.encode()):
        raise SignatureError("X-Telegram-Bot-Api-Secret-Token does not match")


def verify_token_matches(given: str, expected: str) -> bool:
    """Whether the `hub.verify_token` of a subscription handshake is ours (constant time)."""
    return hmac.compare_digest(given.encode(), expected.encode())
