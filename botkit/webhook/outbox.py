"""The persisted inbox and outbox of the webhook: idempotent intake, leased work, ordered sends.

Inbox rows are written before the platform gets its 200 and are unique per platform
message id, so a redelivery (also after a restart) is recognised and dropped. Workers of
any number of processes claim rows with a lease; a conversation's rows are processed one
after another, oldest first. A crashed worker's lease runs out and another worker (or the
restarted process) takes the row over.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from botkit.db import webhook_inbox, webhook_outbox
from botkit.errors import ConfigError
from botkit.platforms.events import Inbound, Outgoing


@dataclass(frozen=True)
class InboxItem:
    """A claimed inbox row."""

    id: int
    event: Inbound
    attempts: int


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row."""

    id: int
    inbox_id: int
    seq: int
    conversation_id: str
    user_id: str
    request: Outgoing
    attempts: int


_CLAIM_TRIES = 8  # lost races in a row before a worker waits for the next poll


class WebhookQueue:
    """Inbox and outbox tables on the bot's database (SQLite in WAL mode or PostgreSQL).

    Every method runs in its own transaction, or in the caller's when given `conn` (so that
    a `GroupWriter` can commit the writes of many requests at once).
    """

    def __init__(self, engine: Engine) -> None:
        dialects = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
        if engine.dialect.name not in dialects:
            raise ConfigError(f"the webhook needs SQLite or PostgreSQL, not {engine.dialect.name!r}")
        self.engine = engine
        self._insert = dialects[engine.dialect.name]

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as own:
            yield own

    def accept(self, events: list[Inbound], now: float, conn: Connection | None = None) -> tuple[int, int]:
        """Save new events; returns (saved, already known)."""
        saved = 0
        with self._tx(conn) as conn:
            for event in events:
                row = _inbox_row(event, now)
                result = conn.execute(self._insert(webhook_inbox).values(**row).on_conflict_do_nothing(index_elements=["key"]))
                saved += result.rowcount
        return saved, len(events) - saved

    def claim(self, owner: str, now: float, lease: float, conn: Connection | None = None) -> InboxItem | None:
        """Lease the oldest pending event whose conversation has no earlier pending event; None if there is none."""
        i = webhook_inbox.alias("i")
        j = webhook_inbox.alias("j")
        earlier = select(j.c.id).where(j.c.conversation_id == i.c.conversation_id, j.c.status == "pending", j.c.id < i.c.id)
        free = or_(i.c.lease_until.is_(None), i.c.lease_until < now)
        query = select(i).where(i.c.status == "pending", free, ~earlier.exists()).order_by(i.c.id).limit(1)
        for _ in range(_CLAIM_TRIES):
            # Without a caller's transaction: read, then claim with a guarded UPDATE in a short
            # write transaction of its own (a read-then-write transaction can fail outright
            # under WAL when another writer commits in between).
            if conn is None:
                with self.engine.connect() as reader:
                    row = reader.execute(query).mappings().first()
            else:
                row = conn.execute(query).mappings().first()
            if row is None:
                return None
            with self._tx(conn) as writer:
                claimed = writer.execute(
                    update(webhook_inbox)
                    .where(webhook_inbox.c.id == row["id"], webhook_inbox.c.status == "pending", _free(webhook_inbox, now))
                    .values(lease_owner=owner, lease_until=now + lease, attempts=webhook_inbox.c.attempts + 1)
                )
            if claimed.rowcount == 1:
                return InboxItem(row["id"], _event(row), row["attempts"] + 1)
            # another worker took this one first: look for the next
        return None

    def finish(
        self, item: InboxItem, outgoing: list[Outgoing], owner: str, now: float, lease: float, conn: Connection | None = None
    ) -> list[OutboxItem]:
        """Mark an event done and queue its sends, leased to `owner`, in one transaction."""
        event = item.event
        rows = []
        with self._tx(conn) as conn:
            for seq, request in enumerate(outgoing):
                values = {
                    "inbox_id": item.id,
                    "seq": seq,
                    "platform": request.platform,
                    "user_id": event.user_id,
                    "conversation_id": event.conversation_id,
                    "path": request.path,
                    "body": json.dumps(request.body, ensure_ascii=False),
                    "status": "pending",
                    "attempts": 0,
                    "next_at": now,
                    "lease_owner": owner,
                    "lease_until": now + lease,
                    "created_at": now,
                }
                result = conn.execute(insert(webhook_outbox).values(**values))
                rows.append(OutboxItem(int(result.inserted_primary_key[0]), item.id, seq, event.conversation_id, event.user_id, request, 0))
            conn.execute(
                update(webhook_inbox)
                .where(webhook_inbox.c.id == item.id)
                .values(status="done", done_at=now, lease_owner=None, lease_until=None, error=None)
            )
        return rows

    def give_up(self, item: InboxItem, error: str, retry_at: float | None, conn: Connection | None = None) -> None:
        """Processing failed: retry after `retry_at`, or mark the event failed when it is None."""
        values: dict[str, Any] = {"error": error, "lease_owner": None}
        if retry_at is None:
            values.update(status="failed", lease_until=None)
        else:
            values["lease_until"] = retry_at  # nobody may claim it before then
        with self._tx(conn) as conn:
            conn.execute(update(webhook_inbox).where(webhook_inbox.c.id == item.id).values(**values))

    def claim_sends(self, owner: str, now: float, lease: float, limit: int = 50, conn: Connection | None = None) -> list[OutboxItem]:
        """Lease due, unleased sends left over from failures or crashed workers, oldest first."""
        o = webhook_outbox
        query = (
            select(o)
            .where(o.c.status == "pending", o.c.next_at <= now, _free(o, now))
            .order_by(o.c.inbox_id, o.c.seq)
            .limit(limit)
        )
        if conn is None:
            with self.engine.connect() as reader:
                rows = reader.execute(query).mappings().all()
        else:
            rows = conn.execute(query).mappings().all()
        items = []
        with self._tx(conn) as conn:
            for row in rows:
                claimed = conn.execute(
                    update(o).where(o.c.id == row["id"], o.c.status == "pending", _free(o, now)).values(lease_owner=owner, lease_until=now + lease)
                )
                if claimed.rowcount == 1:
                    request = Outgoing(row["platform"], row["path"], json.loads(row["body"]))
                    items.append(OutboxItem(row["id"], row["inbox_id"], row["seq"], row["conversation_id"], row["user_id"], request, row["attempts"]))
        return items

    def sent(self, item: OutboxItem, now: float, attempts: int, conn: Connection | None = None) -> None:
        """Record a successful send."""
        self._update_send(conn, item, status="sent", sent_at=now, attempts=item.attempts + attempts, error=None, lease_owner=None, lease_until=None)

    def failed(self, item: OutboxItem, error: str, attempts: int, conn: Connection | None = None) -> None:
        """Record a send the platform rejected for good (a 4xx other than 429)."""
        self._update_send(conn, item, status="failed", error=error, attempts=item.attempts + attempts, lease_owner=None, lease_until=None)

    def later(self, item: OutboxItem, error: str, attempts: int, next_at: float, conn: Connection | None = None) -> None:
        """Keep a send pending and try again at `next_at` (the platform stayed unavailable)."""
        self._update_send(conn, item, error=error, attempts=item.attempts + attempts, next_at=next_at, lease_owner=None, lease_until=None)

    def release(self, owner: str) -> None:
        """Give up every lease `owner` holds (on shutdown), so others continue at once."""
        with self.engine.begin() as conn:
            for table in (webhook_inbox, webhook_outbox):
                conn.execute(
                    update(table).where(table.c.lease_owner == owner, table.c.status == "pending").values(lease_owner=None, lease_until=None)
                )

    def pending(self) -> dict[str, int]:
        """How many events and sends are still pending, e.g. `{"inbox": 0, "outbox": 2}`."""
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table).where(table.c.status == "pending")).scalar_one())
                for name, table in (("inbox", webhook_inbox), ("outbox", webhook_outbox))
            }

    def _update_send(self, conn: Connection | None, item: OutboxItem, **values: Any) -> None:
        with self._tx(conn) as conn:
            conn.execute(update(webhook_outbox).where(webhook_outbox.c.id == item.id).values(**values))


def _free(table: Any, now: float) -> Any:
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


def _inbox_row(event: Inbound, now: float) -> dict[str, Any]:
    return {
        "key": event.key,
        "platform": event.platform,
        "kind": event.kind,
        "user_id": event.user_id,
        "conversation_id": event.conversation_id,
        "text": event.text,
        "payload": event.payload,
        "reply_to": event.reply_to,
        "account": event.account,
        "details": json.dumps(event.details, ensure_ascii=False),
        "status": "pending",
        "attempts": 0,
        "received_at": now,
    }


def _event(row: Any) -> Inbound:
    message_id = row["key"].split(":", 1)[1]
    return Inbound(
        platform=row["platform"],
        kind=row["kind"],
        user_id=row["user_id"],
        message_id=message_id,
        text=row["text"],
        payload=row["payload"],
        reply_to=row["reply_to"],
        account=row["account"],
        details=json.loads(row["details"]),
    )
