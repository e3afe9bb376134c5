"""Conversation state, transcripts and the handover queue, persisted in the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from botkit.db import conversations, handovers, turns
from botkit.types import Handover

Clock = Callable[[], float]


@dataclass(frozen=True)
class ConversationState:
    """What the bot remembers about one conversation between messages."""

    id: str
    user_id: str
    channel: str
    with_human: bool = False
    misses: int = 0
    needs_disclosure: bool = True
    lang: str | None = None
    last_entry: str | None = None
    pending: tuple[str, ...] = ()
    last_user_at: float | None = None


@dataclass(frozen=True)
class QueuedHandover:
    """A handover waiting for (or taken by) a person."""

    id: int
    conversation_id: str
    user_id: str
    channel: str
    reason: str
    details: dict[str, Any]
    transcript: list[dict[str, str]]
    status: str
    created_at: float


class ConversationStore:
    """Reads and writes conversations, turns and handovers; also the default handover sink."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self._clock = clock

    def load(self, conversation_id: str, user_id: str, channel: str) -> ConversationState:
        """The stored state, or a fresh one (not yet saved) for a new conversation."""
        with self.engine.connect() as conn:
            row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
        if row is None:
            return ConversationState(conversation_id, user_id, channel)
        return ConversationState(
            id=row["id"],
            user_id=row["user_id"],
            channel=row["channel"],
            with_human=bool(row["with_human"]),
            misses=row["misses"],
            needs_disclosure=bool(row["needs_disclosure"]),
            lang=row["lang"],
            last_entry=row["last_entry"],
            pending=tuple(json.loads(row["pending"] or "[]")),
            last_user_at=row["last_user_at"],
        )

    def save(self, state: ConversationState, user_text: str, bot_turn: dict[str, Any] | None) -> None:
        """Persist the state with the user's message and the bot's reply in one transaction."""
        now = self._clock()
        values = {
            "user_id": state.user_id,
            "channel": state.channel,
            "with_human": int(state.with_human),
            "misses": state.misses,
            "needs_disclosure": int(state.needs_disclosure),
            "lang": state.lang,
            "last_entry": state.last_entry,
            "pending": json.dumps(list(state.pending)),
            "last_user_at": now,
        }
        with self.engine.begin() as conn:
            updated = conn.execute(update(conversations).where(conversations.c.id == state.id).values(**values))
            if updated.rowcount == 0:
                conn.execute(insert(conversations).values(id=state.id, created_at=now, **values))
            conn.execute(insert(turns).values(conversation_id=state.id, user_id=state.user_id, role="user", text=user_text, at=now))
            if bot_turn is not None:
                conn.execute(insert(turns).values(conversation_id=state.id, user_id=state.user_id, role="bot", at=now, **bot_turn))

    def transcript(self, conversation_id: str) -> tuple[dict[str, str], ...]:
        """Every turn of a conversation, oldest first, as role/text pairs."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(turns.c.role, turns.c.text).where(turns.c.conversation_id == conversation_id).order_by(turns.c.id)
            ).all()
        return tuple({"role": role, "text": text} for role, text in rows)

    def open(self, handover: Handover, user_id: str, channel: str) -> int:
        """Queue a handover; returns its id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(handovers).values(
                    conversation_id=handover.conversation_id,
                    user_id=user_id,
                    channel=channel,
                    reason=handover.reason,
                    details=json.dumps(handover.details, ensure_ascii=False),
                    transcript=json.dumps(list(handover.transcript), ensure_ascii=False),
                    status="open",
                    created_at=self._clock(),
                )
            )
            return int(result.inserted_primary_key[0])

    def record_human(self, conversation_id: str, text: str) -> None:
        """Store a message a person sent in the conversation (it belongs in the transcript)."""
        with self.engine.begin() as conn:
            user_id = conn.execute(select(conversations.c.user_id).where(conversations.c.id == conversation_id)).scalar_one()
            conn.execute(insert(turns).values(conversation_id=conversation_id, user_id=user_id, role="human", text=text, at=self._clock()))

    def release(self, conversation_id: str) -> None:
        """Give the conversation back to the bot; its next reply discloses again."""
        with self.engine.begin() as conn:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(with_human=0, needs_disclosure=1, misses=0, pending="[]", last_entry=None)
            )
            conn.execute(
                update(handovers)
                .where(handovers.c.conversation_id == conversation_id, handovers.c.status == "open")
                .values(status="released", released_at=self._clock())
            )

    def take(self, conversation_id: str, user_id: str, channel: str) -> None:
        """Mark a conversation as handled by a person (e.g. a platform handover event), new or not."""
        with self.engine.begin() as conn:
            updated = conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(with_human=1))
            if updated.rowcount == 0:
                conn.execute(
                    insert(conversations).values(
                        id=conversation_id, user_id=user_id, channel=channel, with_human=1, created_at=self._clock()
                    )
                )

    def queue(self, status: str | None = "open") -> list[QueuedHandover]:
        """Handovers, oldest first; `status=None` lists all."""
        query = select(handovers).order_by(handovers.c.id)
        if status is not None:
            query = query.where(handovers.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            QueuedHandover(
                id=r["id"],
                conversation_id=r["conversation_id"],
                user_id=r["user_id"],
                channel=r["channel"],
                reason=r["reason"],
                details=json.loads(r["details"]),
                transcript=json.loads(r["transcript"]),
                status=r["status"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

