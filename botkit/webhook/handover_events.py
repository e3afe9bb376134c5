"""A person's messages and "nobody came" notices as inbox events, so they go out like bot replies.

Nothing is sent where a person types (agent API, `botkit handovers reply`): the message is
saved as an "agent_message" inbox event with an idempotency key, and the webhook worker
turns it into send-API calls through the outbox, exactly once, in order with the
conversation's other events. Time-outs become one "handover_timeout" event per handover.
Both are addressed like the conversation's latest platform event (its chat, its business
number), so only conversations that came in through the webhook can be reached.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select

from botkit.db import webhook_inbox
from botkit.errors import HandoverError
from botkit.platforms import get_platform
from botkit.platforms.events import ANSWERED_KINDS
from botkit.store import QueuedHandover
from botkit.webhook.parse import Inbound, Kind


def latest_event(engine: Engine, conversation_id: str) -> Inbound | None:
    """The conversation's most recent platform event that says where answers go; None if there is none."""
    query = (
        select(webhook_inbox.c.platform, webhook_inbox.c.user_id, webhook_inbox.c.reply_to, webhook_inbox.c.account, webhook_inbox.c.details)
        .where(webhook_inbox.c.conversation_id == conversation_id, webhook_inbox.c.reply_to != "")
        .order_by(webhook_inbox.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    # The details keep what a platform needs to address the conversation (Chatwoot's thread and channel).
    return Inbound(row.platform, "other", row.user_id, "", reply_to=row.reply_to, account=row.account, details=json.loads(row.details))


def last_user_message_at(engine: Engine, conversation_id: str) -> float | None:
    """When the user last wrote in the conversation (received by the webhook); None if never."""
    query = select(func.max(webhook_inbox.c.received_at)).where(
        webhook_inbox.c.conversation_id == conversation_id, webhook_inbox.c.kind.in_(sorted(ANSWERED_KINDS))
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar_one_or_none()
    return None if value is None else float(value)


def person_message(engine: Engine, handover: QueuedHandover, text: str, key: str, now: float) -> Inbound:
    """The inbox event that sends `text`, written at `now`, from the person who has `handover`.

    `key` makes it unique: the same key for the same handover is saved (and sent) once. The
    event carries when the user last wrote (`user_at`) and when the person wrote (`written_at`),
    so a platform can mark a late answer (Messenger's HUMAN_AGENT tag).

    Raises:
        HandoverError: the conversation never came in through the webhook, or its platform does
            not let a person reach the user this long after their last message.
    """
    event = _event(engine, handover, "agent_message", f"agent:{handover.id}:{key}", text)
    user_at = last_user_message_at(engine, handover.conversation_id)
    reach = get_platform(event.platform).person_reach(user_at, now)
    if reach.mode is None:
        raise HandoverError(f"cannot send to conversation {handover.conversation_id}: {reach.reason}")
    event.details.update(user_at=user_at, written_at=now)
    return event


def timeout_notice(engine: Engine, handover: QueuedHandover) -> Inbound:
    """The one inbox event that tells the user nobody took `handover` in time.

    Raises:
        HandoverError: the conversation never came in through the webhook.
    """
    return _event(engine, handover, "handover_timeout", f"timeout:{handover.id}", "")


def _event(engine: Engine, handover: QueuedHandover, kind: Kind, message_id: str, text: str) -> Inbound:
    where = latest_event(engine, handover.conversation_id)
    if where is None:
        raise HandoverError(
            f"conversation {handover.conversation_id} did not come in through a platform webhook; answer it where it happened ({handover.channel})"
        )
    details = {**where.details, "handover_id": handover.id}
    return Inbound(where.platform, kind, where.user_id, message_id, text, "", where.reply_to, where.account, details)
