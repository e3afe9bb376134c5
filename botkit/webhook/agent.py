"""The agent API: the people behind the bot see the handover queue, take a conversation, write, hand back.

Served under `/agent` only when `BOTKIT_AGENT_TOKEN` is set; every request needs
`Authorization: Bearer <token>` (compared in constant time; 401 otherwise). A person's
message is not sent from the request: it is saved as an inbox event (deduplicated by the
`Idempotency-Key` header) and the webhook worker sends it like a bot reply, exactly once.

Status codes: 404 for an unknown handover, 409 when its state does not allow the step
(a message before `take`, anything after `release`), 422 for a bad body.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints

from botkit.desk import Desk
from botkit.errors import HandoverError
from botkit.store import QueuedHandover
from botkit.webhook.handover_events import person_message
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.writer import GroupWriter


class Turn(BaseModel):
    role: str  # user | bot | person
    text: str


class QueueItem(BaseModel):
    """One handover in the queue."""

    id: int
    conversation_id: str
    channel: str
    reason: str  # low_confidence | user_request | repeated_misses ...
    confidence: float | None  # retrieval confidence of the message that handed over, if any
    waiting_since: datetime  # when the handover was opened (UTC)
    status: str  # waiting | with_person | released
    taken_by: str | None = None
    taken_at: datetime | None = None
    timed_out_at: datetime | None = None  # the user was told nobody came; still in the queue


class HandoverDetail(QueueItem):
    """A handover with the conversation's transcript so far."""

    user_id: str
    details: dict[str, Any]
    transcript: list[Turn]


class TakeRequest(BaseModel):
    person: str = Field(default="", max_length=200, description="Who takes it, e.g. 'Anna'.")


class PersonMessage(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)] = Field(description="What the person writes to the user.")


class WrongAnswer(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4096)] | None = Field(
        default=None, description="The user's message whose answer was wrong; by default the bot's latest answer from an entry."
    )


class FlaggedAnswer(BaseModel):
    """A user message whose answer from the knowledge a person marked as wrong; `botkit review` lists it."""

    message_id: int
    text: str
    entries: list[str]  # the entries the bot answered from
    confidence: float | None


class MessageQueued(BaseModel):
    """A person's message, saved for sending."""

    handover_id: int
    key: str  # the inbox key; a retry with the same Idempotency-Key has the same one
    duplicate: bool  # the same Idempotency-Key was posted before: it is sent only once


_BEARER = HTTPBearer(auto_error=False, description="BOTKIT_AGENT_TOKEN")  # 401 is ours, to compare in constant time
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Bearer token missing or wrong"},
    404: {"description": "No such handover"},
    409: {"description": "The handover's state does not allow this step"},
}


def agent_router(
    bot: Desk,
    token: str,
    *,
    queue: WebhookQueue,
    writer: GroupWriter,
    wake: Callable[[], None],
    clock: Callable[[], float],
) -> APIRouter:
    """The `/agent` routes for `bot`, guarded by `token`.

    Args:
        queue: the webhook inbox where person messages are saved.
        writer: commits them durably (the same writer as webhook intake).
        wake: tells the workers there is new work.
    """
    expected = token.encode()

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "send Authorization: Bearer <BOTKIT_AGENT_TOKEN>", headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter(prefix="/agent", tags=["agent"], dependencies=[Depends(authorised)], responses=_ERRORS)

    async def run(step: Callable[[], Any]) -> Any:
        """Run a synchronous bot step in a thread; its HandoverError becomes a 409."""
        try:
            return await anyio.to_thread.run_sync(step)
        except HandoverError as exc:
            raise HTTPException(409, str(exc)) from exc

    async def known(handover_id: int) -> QueuedHandover:
        try:
            return await anyio.to_thread.run_sync(bot.handover, handover_id)
        except HandoverError as exc:
            raise HTTPException(404, f"no handover {handover_id}") from exc

    @router.get("/handovers", response_model=list[QueueItem], summary="The handover queue, oldest first")
    async def list_handovers(
        status: Annotated[Literal["waiting", "with_person", "released", "all"], Query(description="which handovers to list")] = "waiting",
    ) -> list[QueueItem]:
        wanted = None if status == "all" else status
        items = await anyio.to_thread.run_sync(lambda: bot.queue(wanted))
        return [queue_item(h) for h in items]

    @router.get("/handovers/{handover_id}", response_model=HandoverDetail, summary="One handover with its transcript")
    async def show(handover_id: int) -> HandoverDetail:
        return detail(await known(handover_id))

    @router.post("/handovers/{handover_id}/take", response_model=HandoverDetail, summary="A person takes the conversation; the bot goes silent")
    async def take(handover_id: int, body: Annotated[TakeRequest | None, Body()] = None) -> HandoverDetail:
        await known(handover_id)
        person = body.person if body is not None else ""
        return detail(await run(lambda: bot.take(handover_id, person)))

    @router.post(
        "/handovers/{handover_id}/messages",
        response_model=MessageQueued,
        status_code=202,
        summary="Send the user a message from the person who took the conversation",
    )
    async def message(
        handover_id: int,
        body: PersonMessage,
        idempotency_key: Annotated[str | None, Header(max_length=200, description="Retries with the same key send once")] = None,
    ) -> MessageQueued:
        handover = await known(handover_id)
        if handover.status == "released":
            raise HTTPException(409, f"handover {handover_id} is released: the bot has the conversation again")
        if handover.status != "with_person":
            raise HTTPException(409, f"handover {handover_id} is {handover.status}: take it first")
        event = await run(lambda: person_message(queue.engine, handover, body.text, idempotency_key or uuid.uuid4().hex, clock()))
        saved, _ = await writer.run(lambda conn: queue.accept([event], clock(), conn))
        if saved:
            wake()
        return MessageQueued(handover_id=handover_id, key=event.key, duplicate=not saved)

    @router.post(
        "/handovers/{handover_id}/wrong-answer",
        response_model=FlaggedAnswer,
        summary="Mark the bot's answer in this conversation as wrong, for the next `botkit review`",
        responses={404: {"description": "No such handover, or nothing in its conversation was answered from an entry"}},
    )
    async def wrong_answer(handover_id: int, body: Annotated[WrongAnswer | None, Body()] = None) -> FlaggedAnswer:
        handover = await known(handover_id)
        text = body.text if body is not None and body.text else None
        flagged = await run(lambda: bot.flag_wrong_answer(handover.conversation_id, text))
        if flagged is None:
            which = f"to {text!r}" if text else "from an entry"
            raise HTTPException(404, f"no answer {which} in the conversation of handover {handover_id}")
        return FlaggedAnswer(message_id=flagged.id, text=flagged.text, entries=list(flagged.entries), confidence=flagged.confidence)

    @router.post(
        "/handovers/{handover_id}/release", response_model=HandoverDetail, summary="Hand the conversation back to the bot, which discloses itself again"
    )
    async def release(handover_id: int) -> HandoverDetail:
        handover = await known(handover_id)
        if handover.status == "released":
            raise HTTPException(409, f"handover {handover_id} is already released")
        await run(lambda: bot.release(handover.conversation_id))
        return detail(await known(handover_id))

    return router


def queue_item(handover: QueuedHandover) -> QueueItem:
    """The queue view of a handover."""
    confidence = handover.details.get("confidence")
    return QueueItem(
        id=handover.id,
        conversation_id=handover.conversation_id,
        channel=handover.channel,
        reason=handover.reason,
        confidence=confidence if isinstance(confidence, (int, float)) else None,
        waiting_since=datetime.fromtimestamp(handover.created_at, UTC),
        status=handover.status,
        taken_by=handover.taken_by or None,
        taken_at=_utc(handover.taken_at),
        timed_out_at=_utc(handover.timed_out_at),
    )


def detail(handover: QueuedHandover) -> HandoverDetail:
    """A handover with its transcript."""
    return HandoverDetail(
        **queue_item(handover).model_dump(),
        user_id=handover.user_id,
        details=handover.details,
        transcript=[Turn(role=t["role"], text=t["text"]) for t in handover.transcript],
    )


def _utc(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)
