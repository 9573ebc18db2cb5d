"""Injectable time.

Everything that waits, schedules or timestamps takes a :class:`Clock`, so tests of a ten-minute
rule advance a :class:`ManualClock` instead of sleeping.

- ``now()`` is an aware UTC datetime (wall time, for timestamps and deadlines stored in tables).
- ``monotonic()`` is seconds on a clock that never goes back (for durations and rate limits).
- ``sleep(seconds)`` waits on this clock: real time for :class:`SystemClock`, simulated time
  for :class:`ManualClock` (it returns once the clock has been advanced far enough).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from novita_gpu.core.tasks import cancel_and_wait


class Clock(Protocol):
    """Source of time for loops, grace periods, retries and the emulator."""

    def now(self) -> datetime:
        """Current wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to.

    ``sleep`` parks the caller until :meth:`advance` moves time past its deadline; sleepers wake
    in deadline order. ``sleep(0)`` yields once to the event loop and returns.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._counter), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._elapsed += seconds
        while self._sleepers and self._sleepers[0][0] <= self._elapsed:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def set(self, when: datetime) -> None:
        """Advance to an absolute wall time (which must not be in the clock's past)."""
        self.advance((when - self.now()).total_seconds())

    @property
    def pending_sleepers(self) -> int:
        """How many tasks are parked in :meth:`sleep` (lets tests wait for loops to settle)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())


def utc_now() -> datetime:
    """Wall time now, for places that have no clock injected (never in loops or rules)."""
    return datetime.now(UTC)


def to_unix(when: datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(when.timestamp())


def from_unix(seconds: float) -> datetime:
    """Aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(seconds, UTC)


async def sleep_unless(clock: Clock, seconds: float, event: asyncio.Event) -> None:
    """Sleep ``seconds`` on ``clock``, or less: return as soon as ``event`` is set."""
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait((waiter, sleeper))
