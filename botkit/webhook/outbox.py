"""The persisted inbox and outbox of the webhook: idempotent intake, leased work, ordered sends.

Inbox rows are written before the platform gets its 200 and are unique per platform
message id, so a redelivery (also after a restart) is recognised and dropped; on
PostgreSQL the saving transaction also NOTIFYs idle workers. Workers of any number of
processes claim rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL); a conversation's rows are processed one
after another, oldest first, and conversations take turns (one event each per round), so
a burst in one conversation does not hold up the others.
A crashed worker's lease runs out and another worker (or the restarted process) takes the
row over; every claim has its own lease token, and finishing or giving up is fenced with
it, so a worker that lost its lease writes nothing. `attempts` of an event counts the
failures of its own handling, not the lease expiries of a process that died meanwhile.

A send is marked `sending` (committed) right before its HTTP call: a send found in that
state after a crash may have reached the platform and is sent again (at-least-once for the
message in flight; every other message is sent exactly once).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, case, false, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from botkit.db import erased_key_hash, erased_messages, webhook_inbox, webhook_outbox
from botkit.errors import ConfigError
from botkit.platforms.events import Inbound, Outgoing


@dataclass(frozen=True)
class InboxItem:
    """A claimed inbox row."""

    id: int
    event: Inbound
    attempts: int  # failed handlings so far
    lease_owner: str  # this claim's token; finish and give_up only write while it holds the row


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
    maybe_sent: bool = False  # a crash hit while it was `sending`: the platform may have it already


_UNSENT = ("pending", "sending")
INBOX_CHANNEL = "botkit_inbox"  # PostgreSQL NOTIFY channel: new events were saved


class WebhookQueue:
    """Inbox and outbox tables on the bot's database (SQLite in WAL mode or PostgreSQL).

    Every method runs in its own transaction, or in the caller's when given `conn` (so that
    a `GroupWriter` can commit the writes of many requests at once).
    """

    def __init__(self, engine: Engine, unflushed: Engine | None = None) -> None:
        """Args:
        unflushed: an engine on the same database whose commits need not wait for the
            fsync (`botkit.webhook.writer.unflushed_engine`), for claims and finishes; without
            it they commit like every other write.
        """
        dialects: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
            "sqlite": sqlite.insert,
            "postgresql": postgresql.insert,
        }
        if engine.dialect.name not in dialects:
            raise ConfigError(f"the webhook needs SQLite or PostgreSQL, not {engine.dialect.name!r}")
        self.engine = engine
        self._unflushed = unflushed or engine
        self._insert = dialects[engine.dialect.name]

    @contextmanager
    def _tx(self, conn: Connection | None, *, flush: bool = True) -> Iterator[Connection]:
        """The caller's transaction, or a new one; `flush=False` takes it on the unflushed engine.

        An unflushed commit is lost only if the database server itself crashes within a
        fraction of a second; the next flushed commit on the server (any connection) flushes it too.
        """
        if conn is not None:
            yield conn
            return
        with (self.engine if flush else self._unflushed).begin() as own:
            yield own

    def accept(self, events: list[Inbound], now: float, conn: Connection | None = None) -> tuple[int, int]:
        """Save new events; returns (saved, already known). Events of an erased user's messages count as known."""
        saved = 0
        with self._tx(conn) as conn:
            hashes = {erased_key_hash(e.key): e.key for e in events}
            erased = {hashes[h] for h in conn.execute(select(erased_messages.c.key_hash).where(erased_messages.c.key_hash.in_(hashes))).scalars()}
            for event in events:
                if event.key in erased:
                    continue
                row = _inbox_row(event, now)
                # RETURNING, not rowcount: psycopg reports -1 for some of these inserts on PostgreSQL
                new = self._insert(webhook_inbox).values(**row).on_conflict_do_nothing(index_elements=["key"]).returning(webhook_inbox.c.id)
                saved += len(conn.execute(new).fetchall())
            if saved and self.engine.dialect.name == "postgresql":
                # delivered at commit, to every `botkit worker` listening (see `botkit.webhook.wakeup`)
                conn.execute(select(func.pg_notify(INBOX_CHANNEL, "")))
        return saved, len(events) - saved

    def claim(self, owner: str, now: float, lease: float, conn: Connection | None = None) -> InboxItem | None:
        """Lease the next event; None when nothing is free (`claim_many` with a limit of one)."""
        items = self.claim_many(owner, now, lease, 1, conn)
        return items[0] if items else None

    def claim_many(self, owner: str, now: float, lease: float, limit: int, conn: Connection | None = None) -> list[InboxItem]:
        """Lease the next events of up to `limit` different conversations, oldest first.

        Only a conversation's first pending event can be claimed (in order, one at a time).
        Conversations take turns: the one whose first event has been waiting longest goes
        next, counted from when it arrived or its predecessor was done, whichever is later.
        So a conversation with thousands of queued events gets one turn per round, not all.
        A conversation whose earlier sends are unsent and not held by `owner` (another process
        delivers them, a dead one held them, or they wait for a retry) waits for them, so
        replies reach the user in order also across processes and crashes.

        One statement on both databases: `WITH heads AS MATERIALIZED (SELECT ... FOR UPDATE SKIP
        LOCKED) UPDATE ... WHERE id IN heads RETURNING`. On PostgreSQL concurrent workers skip the rows others are
        claiming instead of waiting for them; SQLite ignores the locking clause and runs the
        statement under its single write lock (one claim at a time across all processes).
        Its cost grows linearly with the pending events whatever the planner's statistics say
        (a fresh or idle table's say "none pending"): the first-event and held-sends tests are
        uncorrelated subqueries, each run once.
        """
        i, h, j = webhook_inbox, webhook_inbox.alias("h"), webhook_inbox.alias("j")
        firsts = select(func.min(j.c.id)).where(j.c.status == "pending").group_by(j.c.conversation_id)
        # COALESCE keeps PostgreSQL from turning IN into a join, which it plans as a nested loop
        # when its statistics say "few pending" (a fresh or idle queue): then the grouping runs
        # once per candidate. As an expression the subquery runs once, into a hash table.
        first = func.coalesce(h.c.id.in_(firsts), false())
        before = (select(j.c.done_at).where(j.c.conversation_id == h.c.conversation_id, j.c.id < h.c.id).order_by(j.c.id.desc()).limit(1)).scalar_subquery()
        waiting_since = case((before > h.c.received_at, before), else_=h.c.received_at)
        o = webhook_outbox
        held = select(o.c.conversation_id).where(o.c.status.in_(_UNSENT), or_(o.c.lease_owner.is_(None), o.c.lease_owner != owner))
        heads = (
            select(h.c.id)
            .where(h.c.status == "pending", _free(h, now), first, h.c.conversation_id.not_in(held))
            .order_by(waiting_since, h.c.id)
            .limit(limit)
            .with_for_update(of=h, skip_locked=True)
            .cte("heads")
            .prefix_with("MATERIALIZED")  # evaluated once: a re-run subquery could lock more than `limit` rows
        )
        token = f"{owner}#{uuid.uuid4().hex[:12]}"
        claim = (
            update(i)
            .where(i.c.id.in_(select(heads.c.id)), i.c.status == "pending", _free(i, now))
            .values(lease_owner=token, lease_until=now + lease)
            .returning(*i.c)
        )
        with self._tx(conn, flush=False) as writer:  # a claim lost in a server crash: the event is claimed again
            rows = writer.execute(claim).mappings().all()
        # different conversations: handled in arrival order (RETURNING keeps no order)
        return [InboxItem(row["id"], _event(row), row["attempts"], token) for row in sorted(rows, key=lambda r: r["id"])]

    def renew(self, item: InboxItem, now: float, lease: float) -> bool:
        """Extend the lease of a claim still being handled; False once another worker took it over."""
        i = webhook_inbox
        with self.engine.begin() as conn:
            result = conn.execute(
                update(i).where(i.c.id == item.id, i.c.lease_owner == item.lease_owner, i.c.status == "pending").values(lease_until=now + lease)
            )
        return result.rowcount == 1

    def finish(
        self, item: InboxItem, outgoing: list[Outgoing], owner: str, now: float, lease: float, conn: Connection | None = None
    ) -> list[OutboxItem] | None:
        """Mark an event done and queue its sends, leased to `owner`, in one transaction.

        Returns None, writing nothing, when the claim's lease was taken over by another worker.
        """
        event = item.event
        rows: list[OutboxItem] = []
        # Unflushed: a server crash may undo it, and the event is handled again (the bot replays
        # its stored reply to the same message id); a send's flushed `sending` flushes it first.
        with self._tx(conn, flush=False) as conn:
            done = conn.execute(
                update(webhook_inbox)
                .where(webhook_inbox.c.id == item.id, webhook_inbox.c.lease_owner == item.lease_owner, webhook_inbox.c.status == "pending")
                .values(status="done", done_at=now, lease_owner=None, lease_until=None, error=None)
            )
            if done.rowcount != 1:
                return None
            values = [
                {
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
                for seq, request in enumerate(outgoing)
            ]
            if values:  # one statement for all of the event's sends
                ids: dict[int, int] = dict(conn.execute(insert(webhook_outbox).values(values).returning(webhook_outbox.c.seq, webhook_outbox.c.id)).all())
                rows = [OutboxItem(ids[seq], item.id, seq, event.conversation_id, event.user_id, request, 0) for seq, request in enumerate(outgoing)]
        return rows

    def give_up(self, item: InboxItem, error: str, retry_at: float | None, conn: Connection | None = None) -> bool:
        """Handling failed (one more failure counted): retry after `retry_at`, or mark the event failed when it is None.

        Returns False, writing nothing, when the claim's lease was taken over by another worker.
        """
        values: dict[str, Any] = {"error": error, "lease_owner": None, "attempts": webhook_inbox.c.attempts + 1}
        if retry_at is None:
            values.update(status="failed", lease_until=None)
        else:
            values["lease_until"] = retry_at  # nobody may claim it before then
        with self._tx(conn) as conn:
            result = conn.execute(
                update(webhook_inbox)
                .where(webhook_inbox.c.id == item.id, webhook_inbox.c.lease_owner == item.lease_owner, webhook_inbox.c.status == "pending")
                .values(**values)
            )
        return result.rowcount == 1

    def claim_sends(self, owner: str, now: float, lease: float, limit: int = 50, conn: Connection | None = None) -> list[OutboxItem]:
        """Lease due, unleased sends left over from failures or crashed workers, oldest first."""
        o = webhook_outbox
        query = select(o).where(o.c.status.in_(_UNSENT), o.c.next_at <= now, _free(o, now)).order_by(o.c.inbox_id, o.c.seq).limit(limit)
        if conn is None:
            with self.engine.connect() as reader:
                rows = reader.execute(query).mappings().all()
        else:
            rows = conn.execute(query).mappings().all()
        items = []
        with self._tx(conn) as conn:
            for row in rows:
                claimed = conn.execute(
                    update(o).where(o.c.id == row["id"], o.c.status.in_(_UNSENT), _free(o, now)).values(lease_owner=owner, lease_until=now + lease)
                )
                if claimed.rowcount == 1:
                    request = Outgoing(row["platform"], row["path"], json.loads(row["body"]))
                    items.append(
                        OutboxItem(
                            row["id"],
                            row["inbox_id"],
                            row["seq"],
                            row["conversation_id"],
                            row["user_id"],
                            request,
                            row["attempts"],
                            maybe_sent=row["status"] == "sending",
                        )
                    )
        return items

    def sending(self, item: OutboxItem, owner: str, conn: Connection | None = None) -> bool:
        """Mark a send as under way, right before its HTTP call; False if `owner` no longer holds it (do not send)."""
        o = webhook_outbox
        with self._tx(conn) as conn:
            result = conn.execute(update(o).where(o.c.id == item.id, o.c.lease_owner == owner, o.c.status.in_(_UNSENT)).values(status="sending"))
        return result.rowcount == 1

    def sent(self, item: OutboxItem, now: float, attempts: int, conn: Connection | None = None) -> None:
        """Record a successful send."""
        self._update_send(conn, item, status="sent", sent_at=now, attempts=item.attempts + attempts, error=None, lease_owner=None, lease_until=None)

    def failed(self, item: OutboxItem, error: str, attempts: int, conn: Connection | None = None) -> None:
        """Record a send the platform rejected for good (a 4xx other than 429)."""
        self._update_send(conn, item, status="failed", error=error, attempts=item.attempts + attempts, lease_owner=None, lease_until=None)

    def later(self, item: OutboxItem, error: str, attempts: int, next_at: float, conn: Connection | None = None) -> None:
        """Keep a send pending and try again at `next_at` (the platform stayed unavailable)."""
        self._update_send(conn, item, status="pending", error=error, attempts=item.attempts + attempts, next_at=next_at, lease_owner=None, lease_until=None)

    def release(self, owner: str) -> None:
        """Give up every lease `owner` holds (on shutdown), so others continue at once."""
        with self.engine.begin() as conn:
            i, o = webhook_inbox, webhook_outbox
            conn.execute(
                update(i)
                .where(or_(i.c.lease_owner == owner, i.c.lease_owner.startswith(f"{owner}#", autoescape=True)), i.c.status == "pending")
                .values(lease_owner=None, lease_until=None)
            )
            conn.execute(update(o).where(o.c.lease_owner == owner, o.c.status.in_(_UNSENT)).values(lease_owner=None, lease_until=None))

    def pending(self) -> dict[str, int]:
        """How many events and sends are still pending, e.g. `{"inbox": 0, "outbox": 2}`."""
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table).where(table.c.status.in_(statuses))).scalar_one())
                for name, table, statuses in (("inbox", webhook_inbox, ("pending",)), ("outbox", webhook_outbox, _UNSENT))
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
