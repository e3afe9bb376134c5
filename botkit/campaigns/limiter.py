"""Per-key send pacing in one process: a smooth rate with a hard cap per window, paused on demand.

The runner paces each user with it (per-user limits); business senders share their pace with
other processes through the database instead (`botkit.campaigns.pacing`). Each key gets a generic cell rate algorithm
(a token bucket of capacity `burst`) at `rate` per second, so sends are spread evenly, and a
log of its last sends, so that even after the event loop stalls and several sends become due
at once, no `period` ever holds more than `rate * period` of them. `pause` holds a key back
(a 429's Retry-After, or a backoff after a rate-limit error code). Written here rather than
taken from a library because the pause and the hard window cap are what the platforms check.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class _Cell:
    rate: float
    cap: int
    tolerance: float
    due: float = 0.0  # theoretical arrival time of the next send (GCRA)
    paused_until: float = 0.0
    sent: deque[float] = field(default_factory=deque)
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


class Pacer:
    """Waits until a send is allowed for every key it names.

    Args:
        clock: monotonic seconds; `sleep` waits on the same clock (both injectable for tests).
    """

    def __init__(
        self,
        *,
        period: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._cells: dict[str, _Cell] = {}

    def configure(self, key: str, rate: float, burst: int = 1) -> None:
        """Allow `rate` sends per second for `key` (at most `rate * period` in any period, at least one)."""
        if rate <= 0:
            raise ValueError(f"rate for {key!r} must be positive, got {rate}")
        cap = max(1, math.floor(rate * self.period))
        self._cells[key] = _Cell(rate, cap, (max(1, burst) - 1) / rate)

    def forget(self, key: str) -> None:
        """Drop a key no longer needed (a user whose sends are done)."""
        self._cells.pop(key, None)

    def pause(self, key: str, seconds: float) -> None:
        """Send nothing for `key` during the next `seconds`."""
        cell = self._cells.get(key)
        if cell is not None:
            cell.paused_until = max(cell.paused_until, self._clock() + seconds)

    def refund(self, key: str) -> None:
        """Take back the last send counted on `key` (the platform refused it for another limit)."""
        cell = self._cells.get(key)
        if cell is not None and cell.sent:
            cell.sent.pop()
            cell.due -= 1 / cell.rate

    async def acquire(self, *keys: str) -> None:
        """Wait until each configured key allows a send, then count one send on each.

        Waiters for the same first key queue up (first come, first served) instead of all
        waking up for every free slot.
        """
        cells = [self._cells[k] for k in keys if k in self._cells]
        if not cells:
            return
        async with cells[0].turn:
            while True:
                now = self._clock()
                ready = max(self._ready_at(c, now) for c in cells)
                if ready <= now:
                    break
                await self._sleep(ready - now)
            for cell in cells:
                cell.due = max(cell.due, now) + 1 / cell.rate
                cell.sent.append(now)

    def _ready_at(self, cell: _Cell, now: float) -> float:
        while cell.sent and cell.sent[0] <= now - self.period:
            cell.sent.popleft()
        ready = max(cell.due - cell.tolerance, cell.paused_until)
        if len(cell.sent) >= cell.cap:
            ready = max(ready, cell.sent[0] + self.period)
        return ready
