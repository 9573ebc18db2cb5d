"""In-process wake-ups for readers of the event table.

The event table is the truth and readers (SSE streams, long-polls, the webhook dispatcher)
poll it, which works across replicas. Within one process, a commit that recorded events also
calls :meth:`EventBus.notify`, so local readers wake at once instead of at their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from novita_gpu.core.clock import Clock

_BUS_KEY = "novita_event_bus"


class EventBus:
    """A broadcast "something new was committed" signal."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._signal: asyncio.Event | None = None

    def notify(self) -> None:
        """Wake every current waiter."""
        signal, self._signal = self._signal, None
        if signal is not None:
            signal.set()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next notify or ``seconds`` on the clock; True if notified."""
        if self._signal is None:
            self._signal = asyncio.Event()
        signal = self._signal
        waiter = asyncio.ensure_future(signal.wait())
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, sleeper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return signal.is_set()

    def attach(self, session: Session) -> None:
        """Notify this bus when ``session`` commits."""
        session.info[_BUS_KEY] = self


@event.listens_for(Session, "after_commit")
def _notify_after_commit(session: Session) -> None:
    bus: Any = session.info.pop(_BUS_KEY, None)
    if isinstance(bus, EventBus):
        bus.notify()
