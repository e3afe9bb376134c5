"""Tell people about a new handover: a signed JSON notice POSTed to a webhook (Slack, n8n, your helpdesk).

```python
from botkit.notify import HandoverNotifier
notifier = HandoverNotifier("https://hooks.example.org/botkit", secret="s3cret")
bot = Bot(..., sink=notifier)  # `open_bot` does this when BOTKIT_HANDOVER_WEBHOOK_URL is set
```

The bot queues the handover in the database first, then calls this sink, which hands the
notice to a background thread, so the user's reply never waits for the receiver. The
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

from botkit.errors import ConfigError, HandoverError
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
    """A `HandoverSink` that POSTs a signed notice of each queued handover, in the background.

    Args:
        url: where notices go (`BOTKIT_HANDOVER_WEBHOOK_URL`).
        secret: HMAC key (`BOTKIT_HANDOVER_WEBHOOK_SECRET`); without one notices are unsigned.
        attempts: tries per notice; waits grow from `initial_wait` to `max_wait` seconds.
        client: the HTTP client; by default a short-lived one per notice (handovers are rare).
        idle_seconds: the background thread ends after this long without notices (and starts again
            with the next), so a notifier nobody closes leaves no thread or connection behind.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        clock: Callable[[], float] = time.time,
        attempts: int = 8,
        initial_wait: float = 1.0,
        max_wait: float = 300.0,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        idle_seconds: float = 30.0,
    ) -> None:
        if httpx.URL(url).scheme not in ("http", "https"):
            raise ConfigError(f"BOTKIT_HANDOVER_WEBHOOK_URL must be an http(s) URL, got {url!r}")
        self._url = url
        self._secret = secret or None
        self._clock = clock
        self._attempts = max(1, attempts)
        self._wait = wait_exponential_jitter(multiplier=initial_wait, max=max_wait, jitter=initial_wait)
        self._client = client
        self._timeout = timeout
        self._idle = idle_seconds
        self._pending: queue.Queue[bytes | None] = queue.Queue()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def open(self, handover: Handover, user_id: str, channel: str) -> int:
        """Hand the notice of a queued handover to the background thread; returns the handover's id."""
        if handover.id is None:
            raise HandoverError("only a queued handover (with an id) can be announced")
        body = json.dumps(notice(handover.id, handover, channel, self._clock()), ensure_ascii=False).encode()
        with self._lock:
            self._pending.put(body)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="botkit-handover-notifier", daemon=True)
                self._thread.start()
        return handover.id

    def close(self, timeout: float = 5.0) -> None:
        """Stop: deliver what is queued with the tries left, giving up after `timeout` seconds."""
        with self._lock:
            thread = self._thread
            self._pending.put(None)
        if thread is not None:
            thread.join(timeout)
            self._closing.set()  # stops waiting between retries
            thread.join(timeout)

    def __enter__(self) -> HandoverNotifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            try:
                body = self._pending.get(timeout=self._idle)
            except queue.Empty:
                with self._lock:  # idle: end, unless a notice came in meanwhile
                    if self._pending.empty():
                        self._thread = None
                        return
                continue
            if body is None:  # closed
                return
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
            if self._client is not None:
                retrying(self._post, self._client, body)
            else:
                with httpx.Client(timeout=self._timeout) as client:
                    retrying(self._post, client, body)
        except RetryError as exc:
            log.error("handover notice given up after %d tries: %s", retrying.statistics.get("attempt_number", 0), exc.last_attempt.exception())

    def _sleep(self, seconds: float) -> None:
        self._closing.wait(seconds)

    def _post(self, client: httpx.Client, body: bytes) -> None:
        stamp = int(self._clock())
        headers = {"Content-Type": "application/json", "User-Agent": "botkit-handover-notifier", TIMESTAMP_HEADER: str(stamp)}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, self._secret, stamp)
        try:
            rsp = client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        if rsp.status_code in (408, 429) or rsp.status_code >= 500:
            raise _Retry(f"HTTP {rsp.status_code}")
        if not rsp.is_success:
            log.error("handover notice refused with HTTP %d: %s", rsp.status_code, rsp.text[:200])
