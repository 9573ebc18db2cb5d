"""In-process wake-ups for readers of the event table.

The event table is the truth and readers (SSE streams, long-polls, the webhook dispatcher)
poll it, which works across replicas. A commit that recorded events also calls
:meth:`EventBus.notify`, so local readers wake at once instead of at their next poll; on
PostgreSQL it also notifies the other replicas (:mod:`novita_gpu.db.notify`), whose listener
calls their own bus.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from novita_gpu.core.clock import Clock, sleep_unless
from novita_gpu.db.notify import notify_at_commit

_BUS_KEY = "novita_event_bus"


class EventBus:
    """A broadcast "something new was committed" signal, closed when the app shuts down."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._signal: asyncio.Event | None = None
        self._generation = 0
        self._closed = False

    @property
    def generation(self) -> int:
        """Counts notifies. Read it before a query and pass it to :meth:`wait` as ``since``,
        so a notify that lands between the query and the wait is not missed."""
        return self._generation

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called: long-lived readers should finish."""
        return self._closed

    def notify(self) -> None:
        """Wake every current waiter."""
        self._generation += 1
        signal, self._signal = self._signal, None
        if signal is not None:
            signal.set()

    def close(self) -> None:
        """Shutting down: set :attr:`closed` and wake every waiter once.

        Later waits behave as before (a loop that ignores :attr:`closed` does not spin).
        """
        self._closed = True
        self.notify()

    async def wait(self, seconds: float, since: int | None = None) -> bool:
        """Wait for the next notify or ``seconds`` on the clock; True if notified.

        Returns True at once when ``since`` is given and a notify happened after that
        :attr:`generation` was read.
        """
        if since is not None and since != self._generation:
            return True
        if self._signal is None:
            self._signal = asyncio.Event()
        signal = self._signal
        await sleep_unless(self._clock, seconds, signal)
        return signal.is_set()

    def attach(self, session: Session) -> None:
        """Notify this bus when ``session`` commits."""
        session.info[_BUS_KEY] = self


@event.listens_for(Session, "before_commit")
def _notify_replicas(session: Session) -> None:
    if isinstance(session.info.get(_BUS_KEY), EventBus):
        notify_at_commit(session)


@event.listens_for(Session, "after_commit")
def _notify_after_commit(session: Session) -> None:
    bus: Any = session.info.pop(_BUS_KEY, None)
    if isinstance(bus, EventBus):
        bus.notify()
