"""What Messenger and WhatsApp share as Meta platforms: the signature, the envelope, the Graph API."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botkit.errors import PayloadError, SignatureError
from botkit.platforms.events import Outgoing
from botkit.platforms.payload import items, obj

if TYPE_CHECKING:
    from pydantic import SecretStr

    from botkit.webhook.settings import WebhookSettings

SIGNATURE_HEADER = "x-hub-signature-256"

BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["object", "entry"],
    "properties": {"object": {"type": "string"}, "entry": {"type": "array", "items": {"type": "object"}}},
}


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


def verify_token_matches(given: str, expected: str) -> bool:
    """Whether the `hub.verify_token` of a subscription handshake is ours (constant time)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def verify_headers(headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
    """`verify_hub_signature` on a request's headers, with the app secret of settings."""
    verify_hub_signature(body, headers.get(SIGNATURE_HEADER), secret.get_secret_value() if secret is not None else "")


def envelope(data: Any, expected: str) -> list[dict[str, Any]]:
    """The `entry` objects of a Meta webhook body whose `object` is `expected`."""
    top = obj(data, "body")
    if top.get("object") != expected:
        raise PayloadError(f"'object' must be {expected!r}, got {top.get('object')!r}")
    return [obj(e, f"entry[{i}]") for i, e in enumerate(items(top.get("entry"), "'entry'"))]


def graph_address(request: Outgoing, token: SecretStr | None, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
    """`POST {graph_api_base}/{path}` with the token as a Bearer header, never in the URL."""
    secret = token.get_secret_value() if token is not None else ""
    return f"{settings.graph_api_base.rstrip('/')}/{request.path}", {"Authorization": f"Bearer {secret}"}
