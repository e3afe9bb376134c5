"""Send-API stand-ins for campaigns that enforce rate limits, as the platforms answer them.

Stands in for the WhatsApp Cloud API (`POST /{version}/{phone_number_id}/messages`), the
Messenger Send API (`POST /{version}/me/messages`) and the Telegram Bot API
(`POST /bot{token}/sendMessage`), speaking their documented wire format: success bodies
(`{"messaging_product", "contacts", "messages": [{"id"}]}`, `{"recipient_id", "message_id"}`,
`{"ok": true, "result": {...}}`) and their "too fast" answers: Graph API errors with HTTP 400
and code 130429 (WhatsApp throughput), 131056 (WhatsApp pair rate) or 613 (Messenger), and
Telegram's HTTP 429 with `parameters.retry_after`. Each sender gets at most `per_second`
accepted messages in any one-second window; `every` injects a "too fast" answer into every
n-th request regardless, so the caller's backoff is exercised too; `answer_after` holds every
answer as long as a send API across the internet takes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RARE_REFUSALS = 0.02  # "too fast" refusals a paced sender may meet from arrival jitter on a busy machine, per accepted send


@dataclass
class Limits:
    """What one platform's stand-in enforces."""

    per_second: float  # accepted messages per sender in any one-second window
    pair_seconds: float = 0.0  # WhatsApp: at least this long between two messages to one user (0: unchecked)
    every: int = 0  # answer every n-th request "too fast" regardless (0: never)
    retry_after: int = 1  # Telegram's parameters.retry_after
    answer_after: float = 0.0  # seconds before the answer, as a send API across the internet takes


@dataclass
class _Platform:
    limits: Limits
    window: deque[float] = field(default_factory=deque)
    requests: int = 0
    accepted: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, recipient)
    over: int = 0  # requests refused because the caller exceeded the limit
    over_at: list[float] = field(default_factory=list)  # when (monotonic time)
    pair_over: int = 0
    injected: int = 0
    last_to: dict[str, float] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)  # the last accepted body per recipient


class CampaignApi:
    """The three send APIs in one Starlette app; `stats()` says what arrived."""

    def __init__(self, limits: dict[str, Limits]) -> None:
        self._lock = threading.Lock()
        self._platforms = {name: _Platform(lim) for name, lim in limits.items()}
        self.app = Starlette(
            routes=[
                Route("/stats", self._stats, methods=["GET"]),
                Route("/{version}/me/messages", self._messenger, methods=["POST"]),
                Route("/{version}/{number}/messages", self._whatsapp, methods=["POST"]),
                Route("/bot{token}/{method}", self._telegram, methods=["POST"]),
            ]
        )

    def _admit(self, name: str, recipient: str, body: Any) -> str:
        """ "ok", "over" (sender limit), "pair" (per-user limit) or "injected"."""
        now = time.monotonic()
        with self._lock:
            p = self._platforms[name]
            p.requests += 1
            if p.limits.every and p.requests % p.limits.every == 0:
                p.injected += 1
                return "injected"
            while p.window and p.window[0] <= now - 1.0:
                p.window.popleft()
            if len(p.window) >= p.limits.per_second:
                p.over += 1
                p.over_at.append(now)
                return "over"
            last = p.last_to.get(recipient)
            if p.limits.pair_seconds and last is not None and now - last < p.limits.pair_seconds:
                p.pair_over += 1
                return "pair"
            p.window.append(now)
            p.last_to[recipient] = now
            p.accepted.append((now, recipient))
            p.bodies[recipient] = body
            return "ok"

    async def _answer_later(self, name: str) -> None:
        """Hold the answer `answer_after` seconds (the request was stamped on arrival)."""
        after = self._platforms[name].limits.answer_after
        if after:
            await asyncio.sleep(after)

    async def _whatsapp(self, request: Request) -> JSONResponse:
        body = await request.json()
        to = str(body.get("to", ""))
        verdict = self._admit("whatsapp", to, body)
        await self._answer_later("whatsapp")
        if verdict == "ok":
            return JSONResponse(
                {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": f"wamid.{time.monotonic_ns()}"}]}
            )
        code, message = (
            (131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit") if verdict == "pair" else (130429, "(#130429) Rate limit hit")
        )
        return _graph_error(code, message)

    async def _messenger(self, request: Request) -> JSONResponse:
        body = await request.json()
        to = str(body.get("recipient", {}).get("id", ""))
        verdict = self._admit("messenger", to, body)
        await self._answer_later("messenger")
        if verdict == "ok":
            return JSONResponse({"recipient_id": to, "message_id": f"m_{time.monotonic_ns()}"})
        return _graph_error(613, "(#613) Calls to this api have exceeded the rate limit.")

    async def _telegram(self, request: Request) -> JSONResponse:
        body = await request.json()
        chat = str(body.get("chat_id", ""))
        verdict = self._admit("telegram", chat, body)
        await self._answer_later("telegram")
        if verdict == "ok":
            return JSONResponse({"ok": True, "result": {"message_id": time.monotonic_ns(), "chat": {"id": body.get("chat_id")}}})
        after = self._platforms["telegram"].limits.retry_after
        return JSONResponse(
            {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {after}", "parameters": {"retry_after": after}}, status_code=429
        )

    def stats(self) -> dict[str, Any]:
        """Per platform: requests, accepted, refusals, duplicates, the busiest one-second window, accepted times."""
        with self._lock:
            out = {}
            for name, p in self._platforms.items():
                times = [t for t, _ in p.accepted]
                per_user = Counter(r for _, r in p.accepted)
                out[name] = {
                    "limit": p.limits.per_second,
                    "requests": p.requests,
                    "accepted": len(p.accepted),
                    "over": p.over,
                    "over_at": list(p.over_at),
                    "pair_over": p.pair_over,
                    "injected": p.injected,
                    "duplicates": sum(n - 1 for n in per_user.values() if n > 1),
                    "busiest_second": busiest(times),
                    "first": times[0] if times else None,
                    "last": times[-1] if times else None,
                    "recipients": dict(per_user),
                    "times": {r: t for t, r in p.accepted},
                    "stamps": times,
                    "bodies": dict(p.bodies),
                }
            return out

    async def _stats(self, request: Request) -> JSONResponse:
        if request.query_params.get("counts"):  # cheap enough to poll
            with self._lock:
                return JSONResponse({name: {"accepted": len(p.accepted)} for name, p in self._platforms.items()})
        return JSONResponse(self.stats())


def _graph_error(code: int, message: str) -> JSONResponse:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    return JSONResponse({"error": error}, status_code=400)


def busiest(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any `window`-long interval (times sorted)."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best
