"""Calls the platforms' send APIs through an injected `httpx.AsyncClient`, with retries.

Each platform says where a call goes and with which credentials (`Platform.address`:
e.g. the Graph API with a Bearer header, Telegram with the token in the path, which the
log scrubber hides). 429, 408, 5xx and transport
errors are retried with exponential backoff and jitter (tenacity), honouring Retry-After
(or Telegram's `parameters.retry_after`) when it is shorter than the cap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, wait_exponential_jitter

from botkit.platforms import Outgoing, get_platform
from botkit.webhook.logs import SecretScrubber
from botkit.webhook.settings import WebhookSettings

Verdict = Literal["sent", "failed", "retry"]


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send-API call after its retries."""

    verdict: Verdict  # sent, failed for good (4xx), or still failing (retry later)
    status: int | None  # the last HTTP status; None after a transport error
    error: str = ""
    retry_after: float | None = None
    attempts: int = 1


class Sender:
    """Sends `Outgoing` requests to the platforms' send APIs."""

    def __init__(self, client: httpx.AsyncClient, settings: WebhookSettings, scrubber: SecretScrubber) -> None:
        self._client = client
        self._settings = settings
        self._scrub = scrubber.scrub
        initial = settings.retry_initial_wait
        backoff = wait_exponential_jitter(multiplier=initial, jitter=initial, max=settings.retry_max_wait)

        def wait(state: RetryCallState) -> float:
            result: SendResult | None = state.outcome.result() if state.outcome is not None else None
            if result is not None and result.retry_after is not None:
                return min(result.retry_after, settings.retry_max_wait)
            return float(backoff(state))

        self._wait = wait

    async def send(self, request: Outgoing) -> SendResult:
        """Send one request, retrying transient failures; never raises for HTTP problems."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, self._settings.send_attempts)),
            wait=self._wait,
            retry=retry_if_result(lambda r: r.verdict == "retry"),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        result: SendResult = await retrying(self._attempt, request)
        return SendResult(result.verdict, result.status, result.error, result.retry_after, retrying.statistics.get("attempt_number", 1))

    async def _attempt(self, request: Outgoing) -> SendResult:
        url, headers = get_platform(request.platform).address(request, self._settings)
        try:
            rsp = await self._client.post(url, json=request.body, headers=headers, timeout=self._settings.send_timeout)
        except httpx.HTTPError as exc:  # transport errors, timeouts, undecodable answers
            return SendResult("retry", None, self._scrub(f"{type(exc).__name__}: {exc}"))
        return answered(rsp.status_code, rsp.content, rsp.headers.get("retry-after", ""), self._scrub)


def answered(status: int, body: bytes, retry_after_header: str, scrub: Callable[[str], str]) -> SendResult:
    """A send API's answer: 2xx sent; 408, 429 and 5xx "retry" (with the wait it asks for); other 4xx failed."""
    if 200 <= status < 300:
        return SendResult("sent", status)
    error = scrub(f"HTTP {status}: {body.decode(errors='replace')[:300]}")
    if status in (408, 429) or status >= 500:
        return SendResult("retry", status, error, _retry_after(retry_after_header, body))
    return SendResult("failed", status, error)


def _retry_after(header: str, body: bytes) -> float | None:
    """Seconds the platform asks to wait: the Retry-After header or Telegram's JSON field."""
    if header.strip().isdigit():
        return float(header.strip())
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    parameters = data.get("parameters") if isinstance(data, dict) else None
    seconds = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0 else None
