"""The world's clock: an injected :class:`Clock` that can also be pushed forward.

``advance(seconds)`` moves a :class:`ManualClock` itself (so sleepers on it wake and tests that
share it stay in step). Any other clock (the system clock) gets an offset instead: simulated time
jumps ahead of wall time, which is what ``POST /_emulator/clock/advance`` needs when the emulator
runs on a real port.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from novita_gpu.core.clock import Clock, ManualClock, SystemClock


class SimClock:
    """A :class:`Clock` with ``advance``; see the module docstring."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base: Clock = base if base is not None else SystemClock()
        self.offset = 0.0

    def now(self) -> datetime:
        return self.base.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.base.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    def timestamp(self) -> float:
        """Simulated time as Unix seconds."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward. Raises ``ValueError`` for a negative amount."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        if isinstance(self.base, ManualClock):
            self.base.advance(seconds)
        else:
            self.offset += seconds
