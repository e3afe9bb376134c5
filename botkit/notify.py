"""Tell people about a new handover: a signed JSON notice POSTed to a webhook (Slack, n8n, your helpdesk).

```python
from botkit.notify import HandoverNotifier
notifier = HandoverNotifier(store, "https://hooks.example.org/botkit", secret="s3cret")
bot = Bot(..., sink=notifier)  # `open_bot` does this when BOTKIT_HANDOVER_WEBHOOK_URL is set
```

The handover is queued in the database first (by the wrapped sink), then the notice is
handed to a background thread, so the user's reply never waits for the receiver. The
thread retries network errors, 408, 429 and 5xx with exponential backoff and jitter.

Guarantee: at least once while the process lives and the receiver recovers within the
retry window (`attempts` tries); a notice still queued when the process ends, or refused
with another 4xx, is lost (and logged). The handover itself is never lost: it stays in the
queue (`botkit handovers list`, `GET /agent/handovers`). Receivers should de-duplicate on
`handover_id`.

Signature: `X-Botkit-Signature: sha256=<hex>` is the HMAC-SHA256 with the shared secret over
`"{X-Botkit-Timestamp}.{raw body}"` (the timestamp is Unix seconds of that attempt), so a
receiver can refuse old replays as well as forged bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, stop_when_event_set, wait_exponential_jitter

from botkit.errors import ConfigError
from botkit.protocols import HandoverSink
from botkit.types import Handover

log = logging.getLogger("botkit.notify")

SIGNATURE_HEADER = "X-Botkit-Signature"
TIMESTAMP_HEADER = "X-Botkit-Timestamp"


class _Retry(Exception):
    """A transient failure worth another try."""


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The `X-Botkit-Signature` value of `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def notice(handover_id: int, handover: Handover, channel: str, waiting_since: float) -> dict[str, Any]:
    """The JSON notice for one new handover; `text` is a one-line summary for chat webhooks (Slack)."""
    confidence = handover.details.get("confidence")
    since = datetime.fromtimestamp(waiting_since, UTC).isoformat(timespec="seconds")
    last = next((t["text"] for t in reversed(handover.transcript) if t.get("role") == "user"), "")
    shown = f", confidence {confidence:.2f}" if isinstance(confidence, (int, float)) else ""
    return {
        "event": "handover.opened",
        "handover_id": handover_id,
        "conversation_id": handover.conversation_id,
        "channel": channel,
        "reason": handover.reason,
        "confidence": confidence,
        "waiting_since": since,
        "transcript": list(handover.transcript),
        "text": f"Handover #{handover_id} ({channel}, {handover.reason}{shown}) waiting since {since}: {last[:200]}",
    }


class HandoverNotifier:
    """A `HandoverSink` that queues the handover with `inner`, then POSTs a signed notice in the background.

    Args:
        inner: the sink that stores the handover (the conversation store) and gives its id.
        url: where notices go (`BOTKIT_HANDOVER_WEBHOOK_URL`).
        secret: HMAC key (`BOTKIT_HANDOVER_WEBHOOK_SECRET`); without one notices are unsigned.
        attempts: tries per notice; waits grow from `initial_wait` to `max_wait` seconds.
        client: the HTTP client (one is opened and closed by the notifier when not given).
    """

    def __init__(
        self,
        inner: HandoverSink,
        url: str,
        *,
        secret: str | None = None,
        clock: Callable[[], float] = time.time,
        attempts: int = 8,
        initial_wait: float = 1.0,
        max_wait: float = 300.0,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        if httpx.URL(url).scheme not in ("http", "https"):
            raise ConfigError(f"BOTKIT_HANDOVER_WEBHOOK_URL must be an http(s) URL, got {url!r}")
        self._inner = inner
        self._url = url
        self._secret = secret or None
        self._clock = clock
        self._attempts = max(1, attempts)
        self._wait = wait_exponential_jitter(multiplier=initial_wait, max=max_wait, jitter=initial_wait)
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._pending: queue.Queue[bytes | None] = queue.Queue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="botkit-handover-notifier", daemon=True)
        self._thread.start()

    def open(self, handover: Handover, user_id: str, channel: str) -> int:
        """Queue the handover (returns its id), then the notice; never waits for the receiver."""
        handover_id = self._inner.open(handover, user_id, channel)
        body = json.dumps(notice(handover_id, handover, channel, self._clock()), ensure_ascii=False).encode()
        self._pending.put(body)
        return handover_id

    def close(self, timeout: float = 5.0) -> None:
        """Stop: deliver what is queued with the tries left, giving up after `timeout` seconds."""
        self._pending.put(None)
        self._thread.join(timeout)
        self._closing.set()  # stops waiting between retries
        self._thread.join(timeout)
        if self._own_client:
            self._client.close()

    def __enter__(self) -> HandoverNotifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while (body := self._pending.get()) is not None:
            try:
                self._deliver(body)
            except Exception:  # noqa: BLE001 - the thread must outlive any one notice
                log.exception("handover notice could not be sent")

    def _deliver(self, body: bytes) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts) | stop_when_event_set(self._closing),
            wait=self._wait,
            sleep=self._sleep,
            retry=retry_if_exception_type(_Retry),
        )
        try:
            retrying(self._post, body)
        except RetryError as exc:
            log.error("handover notice given up after %d tries: %s", retrying.statistics.get("attempt_number", 0), exc.last_attempt.exception())

    def _sleep(self, seconds: float) -> None:
        self._closing.wait(seconds)

    def _post(self, body: bytes) -> None:
        stamp = int(self._clock())
        headers = {"Content-Type": "application/json", "User-Agent": "botkit-handover-notifier", TIMESTAMP_HEADER: str(stamp)}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, self._secret, stamp)
        try:
            rsp = self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        if rsp.status_code in (408, 429) or rsp.status_code >= 500:
            raise _Retry(f"HTTP {rsp.status_code}")
        if not rsp.is_success:
            log.error("handover notice refused with HTTP %d: %s", rsp.status_code, rsp.text[:200])
