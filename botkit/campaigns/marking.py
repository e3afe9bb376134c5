"""Group commit of "consent still stands, mark the row as being sent" for a runner's concurrent sends.

Each send waits for its own row to be marked (`CampaignJobs.start_sending`, committed) before
it goes out. The requests that arrive within `gather` seconds of the first, or while one
statement runs, go together in one statement: at a few hundred sends per second the database
sees one write per few dozen recipients instead of one per few (each statement costs a thread
hop and the GIL the event loop needs), and no send waits longer than `gather` plus about two
statements. The runner marks each row `mark_ahead` before its send slot, so this wait is not
on the send path.
"""

from __future__ import annotations

import asyncio

import anyio

from botkit.campaigns.jobs import CampaignJobs
from botkit.types import Topic


class Marks:
    """Marks rows of one job's topic as being sent, batching the requests that arrive meanwhile."""

    def __init__(self, jobs: CampaignJobs, owner: str, topic: Topic, *, gather: float = 0.0) -> None:
        self.jobs = jobs
        self.gather = gather
        self.owner = owner
        self.topic = topic
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def mark(self, row: int) -> bool:
        """True once `row` is marked and committed; False if its consent is gone or it is no longer ours.

        Raises:
            Exception: whatever the database raised for the batch (the row then stays claimed, not sent).
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            if self.gather > 0:
                await asyncio.sleep(self.gather)
            batch, self._waiting = self._waiting, []
            rows = [row for row, _ in batch]
            try:
                marked = await anyio.to_thread.run_sync(self.jobs.start_sending, rows, self.owner, self.topic.id, self.topic.version)
            except Exception as exc:  # noqa: BLE001 - handed to every waiter of the batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for row, future in batch:
                if not future.done():
                    future.set_result(row in marked)
