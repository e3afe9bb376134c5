"""GDPR rights over everything botkit stores about a person: access (Art. 15) and erasure (Art. 17).

Every table of the schema that holds personal data has a `user_id` column (`botkit.db`), so
`personal_tables()` finds all of them, including tables added later: consent events,
conversations, turns, handovers, campaign deliveries, webhook inbox and outbox rows, and
whatever else carries a `user_id`. Two tables are kept by design and hold no personal data:
`erasures` (when and how many rows, never who) and `erased_messages` (keyed hashes of erased
platform message ids, so a late redelivery is dropped instead of answered).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select

from botkit.db import erased_key_hash, erased_messages, erasures, metadata, webhook_inbox
from botkit.errors import BotkitError, ConfigError
from botkit.types import Client


def personal_tables() -> list[Table]:
    """Every table holding personal data: those with a `user_id` column, in the schema's order."""
    return [table for table in metadata.sorted_tables if "user_id" in table.c]


def export_personal_data(engine: Engine, user_id: str, controller: Client, *, now: float | None = None) -> dict[str, Any]:
    """Everything stored about a user (Art. 15): every row of every personal-data table, as JSON-ready data.

    Besides the rows, `consents` summarises the current state of each (channel, topic) consent
    and `controller` names who holds the data.
    """
    _require(user_id, "export")
    with engine.connect() as conn:
        tables = {table.name: _rows(conn, table, user_id) for table in personal_tables()}
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for event in sorted(tables["consent_events"], key=lambda e: e["id"]):
        latest[(event["channel"], event["topic"])] = event
    return {
        "user_id": user_id,
        "controller": {"name": controller.name, "contact": controller.contact, "privacy_url": controller.privacy_url},
        "exported_at": _iso(time.time() if now is None else now),
        "consents": [
            {"channel": e["channel"], "topic": e["topic"], "state": e["state"], "version": e["version"], "since": _iso(e["at"])}
            for e in sorted(latest.values(), key=lambda e: e["id"])
        ],
        "tables": tables,
    }


def erase_personal_data(engine: Engine, user_id: str, *, now: float | None = None) -> dict[str, int]:
    """Delete every row about a user from every personal-data table (Art. 17); returns rows removed per table.

    One transaction. The erasure itself is recorded with its time and counts only: no identifier
    of the person is kept, not even a salted hash of the user id, as a hash that can be recomputed
    from the user id is still personal data (GDPR Recital 26). Tombstones of the user's webhook
    events (`erased_key_hash` of platform message ids) are kept so a platform's late redelivery is
    dropped. On SQLite the deleted rows are overwritten (`secure_delete`) and the write-ahead log is
    checkpointed and truncated, so no copy stays on disk while the server runs.

    Raises:
        ConfigError: `user_id` is empty.
        BotkitError: the erasure committed, but SQLite's write-ahead log stayed in use (erase again).
    """
    _require(user_id, "erase")
    at = time.time() if now is None else now
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete=ON")  # zero the freed pages, not only unlink them
        _tombstone(conn, user_id, at)
        removed = {table.name: conn.execute(delete(table).where(table.c.user_id == user_id)).rowcount for table in personal_tables()}
        conn.execute(insert(erasures).values(removed=json.dumps(removed), at=at))
    if sqlite:
        _checkpoint(engine)
    return removed


def _require(user_id: str, what: str) -> None:
    if not user_id:
        raise ConfigError(f"{what} needs a user id; an empty id would match nothing or everything")


def _rows(conn: Connection, table: Table, user_id: str) -> list[dict[str, Any]]:
    query = select(table).where(table.c.user_id == user_id).order_by(*table.primary_key.columns)
    return [dict(row) for row in conn.execute(query).mappings()]


def _tombstone(conn: Connection, user_id: str, at: float) -> None:
    """Keep keyed hashes of the user's webhook event keys, so their redeliveries are dropped."""
    keys = conn.execute(select(webhook_inbox.c.key).where(webhook_inbox.c.user_id == user_id)).scalars().all()
    hashes = {erased_key_hash(k) for k in keys}
    known = set(conn.execute(select(erased_messages.c.key_hash).where(erased_messages.c.key_hash.in_(hashes))).scalars())
    if hashes - known:
        conn.execute(insert(erased_messages), [{"key_hash": h, "at": at} for h in sorted(hashes - known)])


def _checkpoint(engine: Engine) -> None:
    """Copy the write-ahead log into the database and truncate it; retried while readers hold it."""
    for attempt in range(50):
        with engine.connect() as conn:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        if busy is None or busy[0] == 0:
            return
        time.sleep(0.02 * (attempt + 1))
    raise BotkitError("the erasure is committed, but the database's write-ahead log is still in use; run the erase again")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
