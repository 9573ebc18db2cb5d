"""Following the event table: every committed event once, from any replica, in commit-safe order.

The table is the stream, so a reader in one process sees events
that another replica committed. The catch is ordering on PostgreSQL: a sequence number is
taken at INSERT, but transactions commit in any order, so event 7 can become visible after
event 8. A reader that only asks for ``seq > last_seen`` skips 7 for good.

:class:`SeqTracker` handles that. Every number missing below the highest seen is a *gap*,
remembered for ``grace`` seconds and asked for again on every read; a late commit fills it and
is emitted then (after higher numbers: out of order, but not lost). A gap still empty after the
grace period is taken to be a rolled-back insert (sequences never reuse numbers) and dropped.
SQLite serialises writers, so there the tracker sees no gaps except deleted events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from novita_gpu.core.clock import Clock
from novita_gpu.db.engine import Database
from novita_gpu.db.models import InstanceEvent
from novita_gpu.events.repository import EventRepository

GRACE_SECONDS = 10.0
"""How long a missing sequence number is waited for before it is taken as rolled back."""
MAX_GAPS = 1000
"""Most gaps remembered at once (a sequence that jumps far does not fill memory)."""
START_LOOKBACK = 200
"""On start, numbers this far below the starting point are checked for gaps."""
BATCH = 500


class SeqTracker:
    """Which sequence numbers a tail has yet to emit (pure: time is passed in, in seconds).

    Every number at or below :attr:`high` was emitted or given up, except the :attr:`gaps`.
    """

    def __init__(
        self, start: int, *, now: float, missing: Iterable[int] = (), grace: float = GRACE_SECONDS
    ) -> None:
        self.high = start
        self.grace = grace
        self._gaps: dict[int, float] = {seq: now for seq in missing if seq <= start}

    @property
    def gaps(self) -> list[int]:
        """Missing numbers below :attr:`high` still waited for, ascending."""
        return sorted(self._gaps)

    def accept(self, seqs: Iterable[int], now: float) -> list[int]:
        """The numbers among ``seqs`` not emitted before, ascending; they count as emitted now.

        Numbers skipped over become gaps (first noticed at ``now``); gaps older than ``grace``
        are dropped.
        """
        fresh = [seq for seq in sorted(set(seqs)) if self._take(seq, now)]
        self.expire(now)
        return fresh

    def expire(self, now: float) -> None:
        """Give up gaps noticed more than ``grace`` seconds before ``now``."""
        for seq, noticed in list(self._gaps.items()):
            if now - noticed > self.grace:
                del self._gaps[seq]

    def _take(self, seq: int, now: float) -> bool:
        if seq > self.high:
            for missing in range(max(self.high + 1, seq - MAX_GAPS), seq):
                self._gaps[missing] = now
            self.high = seq
            self._trim()
            return True
        return self._gaps.pop(seq, None) is not None

    def _trim(self) -> None:
        while len(self._gaps) > MAX_GAPS:
            del self._gaps[min(self._gaps)]


@dataclass
class EventTail:
    """Reads the events committed after a starting point, each once (see the module doc)."""

    db: Database
    clock: Clock
    tracker: SeqTracker
    batch: int = BATCH
    behind: bool = False
    """True when the last read filled a batch: read again before waiting."""

    @classmethod
    async def after_seq(cls, db: Database, clock: Clock, seq: int) -> EventTail:
        """A tail emitting events committed after ``seq``, including late commits below it."""
        async with db.read() as session:
            present = await EventRepository(session).seqs_between(seq - START_LOOKBACK, seq)
        low = max(0, seq - START_LOOKBACK)
        missing = set(range(low + 1, seq + 1)) - set(present)
        tracker = SeqTracker(seq, now=clock.monotonic(), missing=missing)
        return cls(db, clock, tracker)

    async def read(self) -> list[InstanceEvent]:
        """Events not emitted before, in sequence order."""
        tracker = self.tracker
        async with self.db.read() as session:
            rows = await EventRepository(session).after_or_in(
                tracker.high, tracker.gaps, limit=self.batch
            )
        self.behind = len(rows) >= self.batch
        fresh = set(tracker.accept((row.seq for row in rows), self.clock.monotonic()))
        return [row for row in rows if row.seq in fresh]


async def resolve_start(db: Database, last_event_id: str | None) -> tuple[int, bool]:
    """Where a stream starts: after ``last_event_id`` if known (True), else after the newest."""
    async with db.read() as session:
        events = EventRepository(session)
        if last_event_id:
            seq = await events.seq_of(last_event_id)
            if seq is not None:
                return seq, True
        return await events.last_seq(), False
