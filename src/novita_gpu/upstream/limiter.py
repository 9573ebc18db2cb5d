"""A client-side token bucket, timed on the injected clock.

The bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; each request
takes one. Waiters queue behind a lock, so they are served in arrival order.
"""

from __future__ import annotations

import asyncio

from novita_gpu.core.clock import Clock


class TokenBucket:
    """Limits how many requests start per second."""

    def __init__(self, *, rate: float, burst: int, clock: Clock) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Take one token, sleeping on the clock until one is available."""
        async with self._lock:
            while (wait := self._take()) > 0:
                await self._clock.sleep(wait)

    def _take(self) -> float:
        """Take a token and return 0, or return the seconds until one is due."""
        now = self._clock.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate
