"""Send slots per business sender, shared through the database by every process that sends from it.

A platform's limit is per business sender (a WhatsApp phone number, a Facebook Page, a Telegram
bot), not per process: two runners on one job, or two jobs from one number, share it. Each
sender has one row in `campaign_pacing` holding the time of its next free slot. A runner
reserves a block of slots (`block` seconds' worth at the sender's rate) with one UPDATE that
moves that time on (a row lock on PostgreSQL, the write lock on SQLite), so blocks never
overlap, whichever process holds them, and the senders' rate summed over all processes stays
at the configured one. Within its blocks a runner hands each send one slot (evenly spaced
times), and a slot missed by more than `late` seconds is given up rather than used late (it
would arrive together with the next block's, which may be another process's). It reserves its
next block before the current one runs out, so its blocks follow each other without a gap. A
"too fast" answer moves the shared time past the pause, so the other processes pause too from
their next block on (at most `block` seconds later).
Times are the hosts' wall clocks: keep hosts that share a database NTP-synced.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import anyio
from sqlalchemy import Engine, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from botkit.db import campaign_pacing


class SlotBook:
    """The shared next-free-slot time of each business sender, in the database."""

    def __init__(self, engine: Engine, *, writing: AbstractContextManager[object] | None = None, clock: Callable[[], float] = time.time) -> None:
        """`writing`: the lock this process's other writes take turns with (`CampaignJobs.writing`, on SQLite)."""
        self.engine = engine
        self._writing = writing or nullcontext()
        self._clock = clock

    def reserve(self, sender: str, spacing: float, count: int, lead: float = 0.0) -> float:
        """Reserve `count` slots `spacing` seconds apart, from `lead` seconds from now at the earliest; the first one's time."""
        p = campaign_pacing.c
        span = spacing * count
        for _ in range(2):
            earliest = self._clock() + lead
            move = (
                update(campaign_pacing)
                .where(p.business_sender == sender)
                .values(next_at=case((p.next_at < earliest, earliest), else_=p.next_at) + span)
                .returning(p.next_at)
            )
            with self._writing, self.engine.begin() as conn:
                end = conn.execute(move).scalar_one_or_none()
            if end is not None:
                return float(end) - span
            self._add(sender)
        raise RuntimeError(f"campaign_pacing row for {sender!r} vanished while reserving")  # pragma: no cover - nobody deletes these rows

    def hold(self, sender: str, until: float) -> None:
        """Let no process send from `sender` before `until` (a platform's "too fast" answer)."""
        p = campaign_pacing.c
        with self._writing, self.engine.begin() as conn:
            conn.execute(update(campaign_pacing).where(p.business_sender == sender, p.next_at < until).values(next_at=until))

    def next_at(self, sender: str) -> float | None:
        """The sender's next free slot, or None before its first reservation."""
        with self.engine.connect() as conn:
            value = conn.execute(select(campaign_pacing.c.next_at).where(campaign_pacing.c.business_sender == sender)).scalar_one_or_none()
        return None if value is None else float(value)

    def _add(self, sender: str) -> None:
        try:
            with self._writing, self.engine.begin() as conn:
                conn.execute(insert(campaign_pacing).values(business_sender=sender, next_at=0.0))
        except IntegrityError:
            pass  # another process added it first


@dataclass
class _Lane:
    rate: float
    slots: deque[float] = field(default_factory=deque)  # reserved send times not yet taken, in order
    reserved_until: float = 0.0  # the end of the last block this process reserved
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    given_up: int = 0
    paused_until: float = 0.0
    refill: asyncio.Task[None] | None = None  # the next block's reservation, while under way


class SharedSlots:
    """Hands out slots of a business sender reserved in the shared `SlotBook`, one send per slot.

    A send first takes a slot (`take`: the next free one, first come, first served), may prepare
    itself until then (the runner re-reads the consent a moment before it), and waits for it
    (`wait`). A slot is used within `late` seconds of its time or given up, never used late: a
    window of the platform's then holds at most `rate * (1 + late)` of one sender's sends (plus
    one), and a process that stalled catches up only with slots still ahead of it. The next
    block is reserved once less than twice `lead` seconds of this process's blocks are left, so
    one process's blocks follow each other without a gap (a reservation made only when the block
    ran out would start later: 8 % of a 0.25 s block lost), and no slot is reserved closer than
    `lead` to now.

    Args:
        block: seconds of slots reserved at once (one database write per block).
        late: a slot not used within this many seconds of its time is given up. The rest of the
            headroom below the platform's limit is left for arrival jitter.
        lead: no slot is reserved closer than this to now: more than the longest `ahead` a taker
            asks for. The next block is reserved when this process's blocks end within twice this.
    """

    def __init__(
        self,
        book: SlotBook,
        *,
        block: float = 0.25,
        late: float = 0.015,
        lead: float = 0.12,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.book = book
        self.block = block
        self.late = late
        self.lead = lead
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[str, _Lane] = {}

    def configure(self, sender: str, rate: float) -> None:
        """Send at most `rate` messages per second from `sender`, all processes together."""
        if rate <= 0:
            raise ValueError(f"rate for {sender!r} must be positive, got {rate}")
        self._lanes[sender] = _Lane(rate)

    def given_up(self, sender: str) -> int:
        """Slots of `sender` this process reserved but did not use in time."""
        lane = self._lanes.get(sender)
        return lane.given_up if lane else 0

    async def acquire(self, sender: str) -> None:
        """Wait for the next slot of `sender` (first come, first served); unconfigured senders pass at once."""
        while not await self.wait(sender, await self.take(sender)):
            pass

    async def take(self, sender: str, ahead: float = 0.0) -> float:
        """Take the next free slot of `sender` at least `ahead` seconds from now (first come, first served); its time.

        Slots sooner than that which nobody took are given up. An unconfigured sender's slot is now.
        """
        lane = self._lanes.get(sender)
        if lane is None:
            return self._clock()
        async with lane.turn:
            while True:
                now = self._clock()
                while lane.slots and lane.slots[0] < now + ahead:
                    lane.slots.popleft()
                    lane.given_up += 1
                if lane.reserved_until < now + 2 * self.lead:
                    self._start_refill(sender, lane)
                if lane.slots:
                    return lane.slots.popleft()
                if lane.refill is not None and not lane.refill.done():
                    await asyncio.shield(lane.refill)  # raises what the reservation raised
                else:  # every reserved slot is taken: reserve the next block when it is due
                    await self._sleep(max(0.0, lane.reserved_until - 2 * self.lead - now))

    async def wait(self, sender: str, at: float) -> bool:
        """Wait for a taken slot's time; False if it was missed by more than `late` or falls in a pause (given up)."""
        lane = self._lanes.get(sender)
        if lane is None:
            return True
        now = self._clock()
        if at > now:
            await self._sleep(at - now)
            now = self._clock()
        if now > at + self.late or at < lane.paused_until:
            lane.given_up += now > at + self.late
            return False
        return True

    def _start_refill(self, sender: str, lane: _Lane) -> None:
        if lane.refill is None or lane.refill.done():
            lane.refill = asyncio.create_task(self._reserve(sender, lane))
            # A failed reservation reaches the send that waits for it; one made ahead is simply made again.
            lane.refill.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def _reserve(self, sender: str, lane: _Lane) -> None:
        count = max(1, math.ceil(lane.rate * self.block))
        start = await anyio.to_thread.run_sync(self.book.reserve, sender, 1 / lane.rate, count, self.lead)
        lane.reserved_until = max(lane.reserved_until, start + count / lane.rate)
        # A block reserved before a pause may still hold slots inside it: those are not used.
        lane.slots.extend(t for t in (start + i / lane.rate for i in range(count)) if t >= lane.paused_until)

    async def pause(self, sender: str, seconds: float) -> None:
        """Send nothing from `sender` for `seconds`, in this process at once and in the others from their next block."""
        lane = self._lanes.get(sender)
        if lane is None:
            return
        until = self._clock() + seconds
        lane.paused_until = max(lane.paused_until, until)
        while lane.slots and lane.slots[0] < until:
            lane.slots.popleft()
        await anyio.to_thread.run_sync(self.book.hold, sender, until)
