"""The ASGI app: platform webhooks in, persisted before the 200, answered in the background.

```python
import uvicorn
from botkit import open_bot
from botkit.webhook import WebhookSettings, create_app

app = create_app(open_bot("knowledge/"), WebhookSettings())
uvicorn.run(app, host="127.0.0.1", port=8080)
```

Status codes: 200 for every event accepted, ignored or already known; 400 for a body that
is not the platform's JSON envelope; 401 without a signature (or with an expired one) and
403 with a wrong one; 413 for a
body over `max_body_bytes`; 503 only when the database is unavailable (the platform
redelivers). Never 500.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Annotated, Any

import anyio
import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from botkit.bot import Bot
from botkit.desk import Desk
from botkit.errors import ConfigError, PayloadError, SignatureError, StaleRequestError
from botkit.platforms import ANSWERED_KINDS, HANDOVER_KINDS, Inbound, Platform, get_platform
from botkit.platforms.meta import verify_token_matches
from botkit.retention import RetentionPolicy
from botkit.webhook.agent import agent_router
from botkit.webhook.logs import guard_logs, log, mask
from botkit.webhook.metrics import CONTENT_TYPE, Metrics
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.runner import open_worker, process_owner
from botkit.webhook.settings import WebhookSettings
from botkit.webhook.worker import Worker
from botkit.webhook.writer import GroupWriter, durable_engine

_KEPT = ANSWERED_KINDS | HANDOVER_KINDS


class Receipt(BaseModel):
    """What a webhook POST did with the events in its body."""

    accepted: int  # new events saved for the bot
    duplicates: int  # redeliveries of events already saved
    ignored: int  # events the bot does not act on (statuses, media, unknown types)


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


class Health(BaseModel):
    status: str
    platforms: list[str]
    pending: dict[str, int]


_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Not the platform's JSON envelope"},
    401: {"model": Problem, "description": "Signature or secret-token header missing, or the request too old"},
    403: {"model": Problem, "description": "Signature or secret token wrong"},
    413: {"model": Problem, "description": "Body too large"},
    503: {"model": Problem, "description": "Database unavailable; the platform redelivers"},
}


def create_app(
    bot: Desk,
    settings: WebhookSettings,
    *,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    retention: RetentionPolicy | None = None,
) -> FastAPI:
    """The webhook app of `bot` for every platform whose secrets `settings` holds.

    Args:
        bot: the bot, or only its `Desk` (database) when `settings.web_replies` is off.
        client: the HTTP client for the send APIs; by default one is opened with the app.
            Its requests go where each platform's `address` says (e.g. `settings.graph_api_base`).
            Unused when `settings.web_replies` is off: then the app only verifies, saves and
            acknowledges, and `botkit worker` processes (`botkit.webhook.runner`) reply.
        clock: time source for leases, retries and timestamps.
        retention: what the worker purges, at most once an hour (`botkit.retention`).

    Raises:
        ConfigError: a platform is configured only partly, none is, an API base is no URL,
            or the app should reply with only a `Desk`.
    """
    platforms = settings.platforms()
    if settings.web_replies and not isinstance(bot, Bot):
        raise ConfigError("a web process that replies (BOTKIT_WEB_REPLIES=1) needs the whole bot, not only its desk")
    for name in (n for n in type(settings).model_fields if n.endswith(("_api_base", "_url"))):
        if getattr(settings, name) is not None and httpx.URL(getattr(settings, name)).scheme not in ("http", "https"):
            raise ConfigError(f"BOTKIT_{name.upper()} must be an http(s) URL")
    scrubber = guard_logs(settings.secrets())
    queue = WebhookQueue(bot.store.engine)
    engine = durable_engine(bot.store.engine)
    intake = GroupWriter(engine)  # acknowledged events: fsynced before the 200
    owner = process_owner()
    workers: list[Worker] = []
    metrics = Metrics(bot.store.engine, clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            if settings.web_replies and isinstance(bot, Bot):  # (a Desk with web_replies was refused above)
                async with open_worker(
                    bot, settings, scrubber=scrubber, clock=clock, owner=owner, client=client, retention=retention, metrics=metrics
                ) as worker:
                    workers.append(worker)
                    log.info("serving %s at /webhook/<platform>, replying in this process", ", ".join(platforms))
                    yield
                    workers.remove(worker)
            else:
                log.info("serving %s at /webhook/<platform>; `botkit worker` processes reply", ", ".join(platforms))
                yield
        finally:
            await intake.close()
            if engine is not bot.store.engine:
                engine.dispose()

    app = FastAPI(
        title="botkit webhook",
        version=version("botkit"),
        description=f"Webhooks of a botkit FAQ bot: {', '.join(platforms)}.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(SQLAlchemyError)
    async def database_unavailable(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.warning("database error while accepting a webhook: %s", type(exc).__name__)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503, headers={"Retry-After": "5"})

    async def accept(platform: Platform, request: Request) -> Any:
        body = await _read_body(request, settings.max_body_bytes)
        if body is None:
            metrics.count_inbound(platform.name, "too_large")
            return _problem(413, f"body larger than {settings.max_body_bytes} bytes")
        try:
            platform.verify(request.headers, body, settings, clock())
        except SignatureError as exc:
            unauthenticated = not request.headers.get(platform.auth_header) or isinstance(exc, StaleRequestError)
            metrics.count_inbound(platform.name, "unauthenticated" if unauthenticated else "forbidden")
            return _problem(401 if unauthenticated else 403, str(exc))
        try:
            events = platform.parse(body, request.headers)
        except PayloadError as exc:
            metrics.count_inbound(platform.name, "malformed")
            return _problem(400, str(exc))
        kept = [e for e in events if e.kind in _KEPT]
        _log_events(events)
        saved, known = await intake.run(lambda conn: queue.accept(kept, clock(), conn)) if kept else (0, 0)
        for outcome, n in (("accepted", saved), ("duplicate", known), ("ignored", len(events) - len(kept))):
            metrics.count_inbound(platform.name, outcome, n)
        if saved:
            for worker in workers:
                worker.wake()
        # A plain response (the model documents it): skips re-validating what was just built.
        return JSONResponse({"accepted": saved, "duplicates": known, "ignored": len(events) - len(kept)})

    def add_webhook(platform: Platform) -> None:
        path = f"/webhook/{platform.name}"
        header = {"name": platform.auth_header, "in": "header", "required": False, "schema": {"type": "string"}}
        body = {"required": True, "content": {"application/json": {"schema": platform.body_schema}}}

        @app.post(
            path,
            response_model=Receipt,
            responses=_REFUSALS,
            name=f"{platform.name}_events",
            summary=f"{platform.name} events, authenticated by {platform.auth_header}",
            openapi_extra={"parameters": [header], "requestBody": body},
        )
        async def events(request: Request) -> Any:
            return await accept(platform, request)

        if platform.handshake:
            add_handshake(platform.name, path)

    def add_handshake(name: str, path: str) -> None:
        @app.get(
            path,
            response_class=PlainTextResponse,
            name=f"{name}_handshake",
            summary=f"{name} subscription handshake: echoes hub.challenge",
            responses={200: {"content": {"text/plain": {}}}, 400: {"model": Problem}, 403: {"model": Problem}},
        )
        async def handshake(
            mode: Annotated[str | None, Query(alias="hub.mode")] = None,
            token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
            challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
        ) -> Any:
            if mode != "subscribe" or not token or not challenge:
                return _problem(400, "expected hub.mode=subscribe, hub.verify_token and hub.challenge")
            expected = settings.verify_token.get_secret_value() if settings.verify_token else ""
            if not expected or not verify_token_matches(token, expected):
                log.warning("%s handshake with a wrong verify token", name)
                return _problem(403, "hub.verify_token does not match")
            if len(challenge) > 256 or not challenge.isascii() or not challenge.isprintable():
                return _problem(400, "hub.challenge must be printable ASCII of at most 256 characters")
            return PlainTextResponse(challenge)

    for name in platforms:
        add_webhook(get_platform(name))

    def wake_workers() -> None:
        for worker in workers:
            worker.wake()

    agent_token = settings.agent_token.get_secret_value() if settings.agent_token is not None else ""
    if agent_token:  # no token, no agent routes
        app.include_router(agent_router(bot, agent_token, queue=queue, writer=intake, wake=wake_workers, clock=clock))

    @app.get("/healthz", response_model=Health, summary="Liveness, served platforms and pending work")
    async def healthz() -> Health:
        pending = await anyio.to_thread.run_sync(queue.pending)
        return Health(status="ok", platforms=list(platforms), pending=pending)

    # No auth, like /healthz: operators keep /metrics internal (a reverse proxy does not forward it).
    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        """The app's metrics in the Prometheus text format (see `botkit.webhook.metrics`)."""
        body = await anyio.to_thread.run_sync(metrics.exposition)  # the queue gauges read the database
        return Response(body, media_type=CONTENT_TYPE)

    return app


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The raw body (signatures cover the exact bytes), or None when it exceeds `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _log_events(events: list[Inbound]) -> None:
    for event in events:
        if event.kind == "status" and event.text == "failed":
            log.warning("whatsapp message to %s failed: error codes %s", mask(event.user_id), event.details.get("error_codes"))
        else:
            log.debug("%s %s from %s (%s)", event.platform, event.kind, mask(event.user_id), mask(event.message_id))
