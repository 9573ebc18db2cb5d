"""In-process wake-ups for readers of the event table.

The event table is the truth and readers (SSE streams, long-polls, the webhook dispatcher)
poll it, which works across replicas. A commit that recorded events also calls
:meth:`EventBus.notify`, so local readers wake at once instead of at their next poll; on
PostgreSQL it also notifies the other replicas (:mod:`novita_gpu.db.notify`), whose listener
calls their own bus.

Each local notify remembers which instances the commit touched, so a reader that follows one
instance (a long-poll) re-reads only when that instance may have changed: with many waiters
and a burst of commits, the rest stay asleep instead of each re-reading its row per commit.
A notify that does not say (another replica's, a shutdown) counts as touching every instance.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from novita_gpu.core.clock import Clock, sleep_unless
from novita_gpu.db.notify import notify_at_commit

_BUS_KEY = "novita_event_bus"
_TOUCHED_KEY = "novita_event_bus_touched"
_EVERYTHING = None
# Notifies remembered for :meth:`EventBus.touched`; a reader further behind re-reads anyway.
_REMEMBERED = 1024


class EventBus:
    """A broadcast "something new was committed" signal, closed when the app shuts down."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._signal: asyncio.Event | None = None
        self._generation = 0
        self._closed = False
        self._recent: deque[tuple[int, frozenset[str] | None]] = deque(maxlen=_REMEMBERED)

    @property
    def generation(self) -> int:
        """Counts notifies. Read it before a query and pass it to :meth:`wait` as ``since``,
        so a notify that lands between the query and the wait is not missed."""
        return self._generation

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called: long-lived readers should finish."""
        return self._closed

    def notify(self, instance_ids: Iterable[str] | None = _EVERYTHING) -> None:
        """Wake every current waiter; ``instance_ids`` are the instances the commit touched
        (None: unknown, any instance may have changed)."""
        self._generation += 1
        touched = None if instance_ids is None else frozenset(instance_ids)
        self._recent.append((self._generation, touched))
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

    def touched(self, instance_id: str, since: int) -> bool:
        """Whether a notify after :attr:`generation` ``since`` may concern ``instance_id``
        (True too when the notifies since then are no longer all remembered)."""
        if since == self._generation:
            return False
        if not self._recent or self._recent[0][0] > since + 1:
            return True
        for generation, ids in reversed(self._recent):
            if generation <= since:
                break
            if ids is None or instance_id in ids:
                return True
        return False

    def attach(self, session: Session, instance_id: str | None = None) -> None:
        """Notify this bus when ``session`` commits, naming ``instance_id`` among the
        instances it touched (None: say nothing about which)."""
        session.info[_BUS_KEY] = self
        touched: set[str] | None = session.info.get(_TOUCHED_KEY, set())
        if touched is not None and instance_id is not None:
            touched.add(instance_id)
            session.info[_TOUCHED_KEY] = touched
        else:
            session.info[_TOUCHED_KEY] = _EVERYTHING


@event.listens_for(Session, "before_commit")
def _notify_replicas(session: Session) -> None:
    if isinstance(session.info.get(_BUS_KEY), EventBus):
        notify_at_commit(session)


@event.listens_for(Session, "after_commit")
def _notify_after_commit(session: Session) -> None:
    bus: Any = session.info.pop(_BUS_KEY, None)
    touched = session.info.pop(_TOUCHED_KEY, _EVERYTHING)
    if isinstance(bus, EventBus):
        bus.notify(touched)
