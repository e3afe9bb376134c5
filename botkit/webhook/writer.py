"""Group commit: the small writes of many concurrent requests share one transaction.

Under load, SQLite writers that meet wait in coarse sleeps (1, 2, 5, 10 ms, ...), and every
commit has a fixed cost. One writer thread that commits whatever accumulated while it was
busy removes both: at low load each write commits at once, at high load in batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine, create_engine, event

from botkit.db import open_database

T = TypeVar("T")
Op = Callable[[Connection], Any]


def durable_engine(engine: Engine) -> Engine:
    """An engine on the same database whose commits survive a power loss, for acknowledged events.

    botkit's SQLite runs WAL with synchronous=NORMAL: a commit survives a crash of the
    process, but the last ones may be lost if the machine loses power. An acknowledged
    webhook event must not be, so the webhook's writes use synchronous=FULL (one fsync per
    group commit). Other databases (PostgreSQL commits durably) and in-memory SQLite keep
    `engine`.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    durable = open_database(engine.url.render_as_string(hide_password=False))
    event.listen(durable, "connect", _synchronous_full)  # after open_database's own pragmas
    durable.dispose()  # open_database already pooled a connection without it
    return durable


def unflushed_engine(engine: Engine) -> Engine:
    """An engine on the same PostgreSQL database whose commits do not wait for their WAL fsync.

    For writes that may be undone by a crash of the database server (not of a botkit
    process) because they are redone then: a worker's claims and finishes. Any later
    flushed commit on the server flushes them too. Other databases keep `engine`.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return create_engine(engine.url, connect_args={"options": "-c synchronous_commit=off"})


def _synchronous_full(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class GroupWriter:
    """Runs write operations (functions of a connection) in shared transactions on one thread.

    If an operation raises, its whole batch is rolled back and every caller in the batch
    gets the exception (a webhook answers 503 then, and the platform redelivers).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._waiting: list[tuple[Op, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._thread = anyio.CapacityLimiter(1)

    async def run(self, op: Callable[[Connection], T]) -> T:
        """Run `op` in the next transaction and return its result once that transaction committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((op, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        result: T = await future
        return result

    async def close(self) -> None:
        """Wait for the writes already handed in."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await anyio.to_thread.run_sync(self._commit, [op for op, _ in batch], limiter=self._thread)
            except Exception as exc:  # noqa: BLE001 - handed on to every caller of the batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():  # a caller may have gone (client disconnected)
                    future.set_result(result)

    def _commit(self, ops: list[Op]) -> list[Any]:
        with self._engine.begin() as conn:
            return [op(conn) for op in ops]
