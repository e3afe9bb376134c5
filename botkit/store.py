"""Conversation state, transcripts and the handover queue, persisted in the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from botkit.db import conversations, handovers, turns
from botkit.errors import HandoverError
from botkit.types import Handover

_CONVERSATION = select(conversations).where(conversations.c.id == bindparam("conversation"))
_TRANSCRIPT = select(turns.c.role, turns.c.text).where(turns.c.conversation_id == bindparam("conversation")).order_by(turns.c.id)
_UPDATE_CONVERSATION = update(conversations).where(conversations.c.id == bindparam("conversation"))
_INSERT_CONVERSATION = insert(conversations)
_INSERT_TURN = insert(turns)
_SAVED_MESSAGE = select(turns.c.id).where(
    turns.c.conversation_id == bindparam("conversation"), turns.c.message_id == bindparam("message"), turns.c.role == "user"
)
_STANDING_HANDOVER = select(handovers.c.id).where(handovers.c.conversation_id == bindparam("conversation"), handovers.c.status == "waiting")
_RENEW_HANDOVER = update(handovers).where(handovers.c.id == bindparam("handover"))
_QUEUE_HANDOVER = insert(handovers).returning(handovers.c.id)

Clock = Callable[[], float]


@dataclass(frozen=True)
class ConversationState:
    """What the bot remembers about one conversation between messages.

    `with_human`: a person has the conversation (the bot is silent except for STOP).
    `waiting_since`: a handover waits for a person; the bot still answers meanwhile.
    """

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
    waiting_since: float | None = None
    stored: bool = False  # read from the database (False: a new conversation, nothing saved yet)


@dataclass(frozen=True)
class QueuedHandover:
    """A handover waiting for, or taken by, a person; `status` is waiting | with_person | released."""

    id: int
    conversation_id: str
    user_id: str
    channel: str
    reason: str
    details: dict[str, Any]
    transcript: list[dict[str, str]]
    status: str
    created_at: float
    taken_at: float | None = None
    taken_by: str | None = None
    timed_out_at: float | None = None


@dataclass(frozen=True)
class StoredReply:
    """The bot turn saved for a user message, replayed when the message is delivered again."""

    decision: str
    reason: str
    entries: tuple[str, ...]
    confidence: float
    messages: list[dict[str, Any]]


class ConversationStore:
    """Reads and writes conversations, turns and handovers; also the default handover sink."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self._clock = clock

    def load(self, conversation_id: str, user_id: str, channel: str) -> ConversationState:
        """The stored state, or a fresh one (not yet saved) for a new conversation."""
        with self.engine.connect() as conn:
            row = conn.execute(_CONVERSATION, {"conversation": conversation_id}).mappings().first()
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
            waiting_since=row["waiting_since"],
            stored=True,
        )

    def replay(self, conversation_id: str, message_id: str) -> StoredReply | None:
        """The reply already given to this user message, if it was handled before (a redelivery)."""
        with self.engine.connect() as conn:
            user_turn = conn.execute(
                select(turns.c.id).where(turns.c.conversation_id == conversation_id, turns.c.message_id == message_id, turns.c.role == "user")
            ).scalar()
            if user_turn is None:
                return None
            row = (
                conn.execute(select(turns).where(turns.c.conversation_id == conversation_id, turns.c.id > user_turn).order_by(turns.c.id).limit(1))
                .mappings()
                .first()
            )
        if row is None or row["role"] != "bot" or row["messages"] is None:
            return StoredReply("silent", "with_human", (), 0.0, [])
        return StoredReply(
            row["decision"], row["reason"] or "", tuple(json.loads(row["entries"] or "[]")), row["confidence"] or 0.0, json.loads(row["messages"])
        )

    def save(
        self,
        state: ConversationState,
        user_text: str,
        bot_turn: dict[str, Any] | None,
        *,
        message_id: str | None = None,
        handover: Handover | None = None,
    ) -> int | None:
        """Persist the state, the user's message, the bot's reply and a new handover in one transaction.

        A message (`message_id`) already saved by another handling of it (a worker that outlived
        its lease while another took the event over) is not saved twice: nothing is written.
        Returns the id of the handover opened, if any.
        """
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
            "waiting_since": state.waiting_since,
        }
        turn = {"conversation_id": state.id, "user_id": state.user_id, "at": now}
        try:
            with self.engine.connect() as conn, conn.begin() as transaction:  # constant statements: compiled once, not per reply
                # The UPDATE first: it locks the conversation (its row on PostgreSQL, the database on SQLite),
                # so a concurrent save of the same message waits here and then finds it saved.
                updated = conn.execute(_UPDATE_CONVERSATION, {"conversation": state.id, **values})
                if message_id is not None and conn.execute(_SAVED_MESSAGE, {"conversation": state.id, "message": message_id}).first():
                    transaction.rollback()
                    return None
                if updated.rowcount == 0:
                    conn.execute(_INSERT_CONVERSATION, {"id": state.id, "created_at": now, **values})
                conn.execute(_INSERT_TURN, {**turn, "role": "user", "text": user_text, "message_id": message_id})
                if bot_turn is not None:
                    conn.execute(_INSERT_TURN, {**turn, "role": "bot", **bot_turn})
                if handover is not None:
                    return self._open(conn, handover, state.user_id, state.channel, now)
        except IntegrityError:  # a new conversation inserted at the same time by another handling of this message
            with self.engine.connect() as conn:
                if message_id is None or not conn.execute(_SAVED_MESSAGE, {"conversation": state.id, "message": message_id}).first():
                    raise
        return None

    def transcript(self, conversation_id: str) -> tuple[dict[str, str], ...]:
        """Every turn of a conversation, oldest first, as role/text pairs."""
        with self.engine.connect() as conn:
            rows = conn.execute(_TRANSCRIPT, {"conversation": conversation_id}).all()
        return tuple({"role": role, "text": text} for role, text in rows)

    def open(self, handover: Handover, user_id: str, channel: str) -> int:
        """Queue a handover; returns its id."""
        with self.engine.begin() as conn:
            return self._open(conn, handover, user_id, channel, self._clock())

    def _open(self, conn: Connection, handover: Handover, user_id: str, channel: str, now: float) -> int:
        values = {
            "reason": str(handover.reason),  # the value: a database driver may write an enum by its name
            "details": json.dumps(handover.details, ensure_ascii=False),
            "transcript": json.dumps(list(handover.transcript), ensure_ascii=False),
        }
        # Asked again after nobody came: the standing request is renewed, not queued twice.
        standing = conn.execute(_STANDING_HANDOVER, {"conversation": handover.conversation_id}).scalar()
        if standing is not None:
            conn.execute(_RENEW_HANDOVER, {"handover": standing, "created_at": now, "timed_out_at": None, **values})
            return int(standing)
        row = {"conversation_id": handover.conversation_id, "user_id": user_id, "channel": channel, "status": "waiting", "created_at": now, **values}
        return int(conn.execute(_QUEUE_HANDOVER, row).scalar_one())

    def get(self, handover_id: int) -> QueuedHandover:
        """One handover with the conversation's transcript as it is now.

        Raises:
            HandoverError: there is no handover with this id.
        """
        with self.engine.connect() as conn:
            row = conn.execute(select(handovers).where(handovers.c.id == handover_id)).mappings().first()
        if row is None:
            raise HandoverError(f"there is no handover {handover_id}; `botkit handovers list` shows the queue")
        item = _queued(row)
        return QueuedHandover(**{**item.__dict__, "transcript": list(self.transcript(item.conversation_id))})

    def take(self, handover_id: int, person: str) -> QueuedHandover:
        """A person takes a waiting handover: the bot falls silent in that conversation.

        Raises:
            HandoverError: unknown, or already released.
        """
        item = self.get(handover_id)
        if item.status == "released":
            raise HandoverError(f"handover {handover_id} was released; the conversation is the bot's again")
        now = self._clock()
        with self.engine.begin() as conn:
            conn.execute(update(handovers).where(handovers.c.id == handover_id).values(status="with_person", taken_at=now, taken_by=person or None))
            conn.execute(update(conversations).where(conversations.c.id == item.conversation_id).values(with_human=1, waiting_since=None))
        return self.get(handover_id)

    def take_conversation(self, conversation_id: str, user_id: str, channel: str, person: str = "") -> None:
        """Mark a conversation as handled by a person (e.g. a platform handover event), new or not."""
        now = self._clock()
        with self.engine.begin() as conn:
            updated = conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(with_human=1, waiting_since=None))
            if updated.rowcount == 0:
                conn.execute(insert(conversations).values(id=conversation_id, user_id=user_id, channel=channel, with_human=1, created_at=now))
            conn.execute(
                update(handovers)
                .where(handovers.c.conversation_id == conversation_id, handovers.c.status == "waiting")
                .values(status="with_person", taken_at=now, taken_by=person or None)
            )

    def record_person(self, conversation_id: str, text: str, messages: list[dict[str, Any]], *, message_id: str | None = None) -> None:
        """Store a message a person sent in the conversation (it belongs in the transcript); one with a
        `message_id` already recorded (its event handled again after a crash) is not recorded twice."""
        with self.engine.begin() as conn:
            owner = select(conversations.c.user_id).where(conversations.c.id == conversation_id).with_for_update()  # a second handling waits here
            user_id = conn.execute(owner).scalar_one()
            if message_id is not None:
                recorded = select(turns.c.id).where(turns.c.conversation_id == conversation_id, turns.c.role == "person", turns.c.message_id == message_id)
                if conn.execute(recorded).first():
                    return
            conn.execute(
                insert(turns).values(
                    conversation_id=conversation_id,
                    user_id=user_id,
                    role="person",
                    text=text,
                    messages=json.dumps(messages),
                    message_id=message_id,
                    at=self._clock(),
                )
            )

    def release(self, conversation_id: str) -> None:
        """Give the conversation back to the bot; its next reply discloses again."""
        with self.engine.begin() as conn:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(with_human=0, waiting_since=None, needs_disclosure=1, misses=0, pending="[]", last_entry=None)
            )
            conn.execute(
                update(handovers)
                .where(handovers.c.conversation_id == conversation_id, handovers.c.status.in_(("waiting", "with_person")))
                .values(status="released", released_at=self._clock())
            )

    def time_out(self, handover_id: int, bot_turn: dict[str, Any]) -> bool:
        """Tell-the-user bookkeeping when nobody took a handover: the request stays queued, the
        conversation is the bot's again. False (nothing written) when it was done before or taken."""
        item = self.get(handover_id)
        if item.status != "waiting" or item.timed_out_at is not None:
            return False
        now = self._clock()
        with self.engine.begin() as conn:
            marked = conn.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.status == "waiting", handovers.c.timed_out_at.is_(None))
                .values(timed_out_at=now)
            )
            if marked.rowcount != 1:
                return False
            conn.execute(
                update(conversations)
                .where(conversations.c.id == item.conversation_id, conversations.c.with_human == 0)
                .values(waiting_since=None, misses=0, pending="[]")
            )
            conn.execute(insert(turns).values(conversation_id=item.conversation_id, user_id=item.user_id, role="bot", at=now, **bot_turn))
        return True

    def queue(self, status: str | None = "waiting") -> list[QueuedHandover]:
        """Handovers, oldest first; `status=None` lists all."""
        query = select(handovers).order_by(handovers.c.id)
        if status is not None:
            query = query.where(handovers.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_queued(r) for r in rows]

    def overdue(self, before: float) -> list[QueuedHandover]:
        """Waiting handovers created before `before` whose user was not yet told that nobody came."""
        query = (
            select(handovers)
            .where(handovers.c.status == "waiting", handovers.c.timed_out_at.is_(None), handovers.c.created_at <= before)
            .order_by(handovers.c.id)
        )
        with self.engine.connect() as conn:
            return [_queued(r) for r in conn.execute(query).mappings().all()]


def _queued(r: Any) -> QueuedHandover:
    return QueuedHandover(
        id=r["id"],
        conversation_id=r["conversation_id"],
        user_id=r["user_id"],
        channel=r["channel"],
        reason=r["reason"],
        details=json.loads(r["details"]),
        transcript=json.loads(r["transcript"]),
        status=r["status"],
        created_at=r["created_at"],
        taken_at=r["taken_at"],
        taken_by=r["taken_by"],
        timed_out_at=r["timed_out_at"],
    )
