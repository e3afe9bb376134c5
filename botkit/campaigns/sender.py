"""Campaign sends over aiohttp: one send-API call, its outcome, and whether it surely did not arrive.

At a platform's full rate the HTTP client is most of a runner's work. httpx's `AsyncClient`
(which `botkit.webhook.sender.Sender` uses for replies) costs about 1.3 ms of CPU per request on
the benchmark machine, aiohttp's `ClientSession` about 0.15 ms (see also encode/httpx#3215): at
Messenger's 300 sends/s that is most of a core against a tenth of one. The outcome is the reply
path's `SendResult`, classified as `Sender` does (2xx sent; 408, 429 and 5xx "retry" with the
Retry-After or Telegram's `parameters.retry_after`; other 4xx failed). The error text starts with
`ConnectError` only when no connection was made, so the request cannot have arrived; every other
transport error (a reset or timeout after the request went out) is in doubt.
"""

from __future__ import annotations

import asyncio

import aiohttp

from botkit.platforms import Outgoing, get_platform
from botkit.webhook.logs import SecretScrubber
from botkit.webhook.sender import SendResult, answered
from botkit.webhook.settings import WebhookSettings

NOT_SENT = "ConnectError"  # the prefix of an error whose request never left this host


class CampaignSender:
    """Sends `Outgoing` calls once each through an aiohttp session (no retries: the runner decides)."""

    def __init__(self, session: aiohttp.ClientSession, settings: WebhookSettings, scrubber: SecretScrubber) -> None:
        self._session = session
        self._settings = settings
        self._scrub = scrubber.scrub
        self._timeout = aiohttp.ClientTimeout(total=settings.send_timeout)

    async def send(self, request: Outgoing) -> SendResult:
        """Send one call; never raises for HTTP or network problems."""
        url, headers = get_platform(request.platform).address(request, self._settings)
        try:
            async with self._session.post(url, json=request.body, headers=headers, timeout=self._timeout) as rsp:
                body = await rsp.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:  # no connection was made
            return SendResult("retry", None, f"{NOT_SENT}: " + self._scrub(f"{type(exc).__name__}: {exc}"))  # the marker never scrubbed
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # the request may have arrived
            return SendResult("retry", None, self._scrub(f"{type(exc).__name__}: {exc}"))
        return answered(rsp.status, body, rsp.headers.get("retry-after", ""), self._scrub)


def campaign_session(connections: int) -> aiohttp.ClientSession:
    """An aiohttp session with at most `connections` connections (call inside the event loop).

    Unlike httpx's client on the reply path it does not read proxies or .netrc from the environment:
    aiohttp would look them up in a thread on every request.
    """
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))
