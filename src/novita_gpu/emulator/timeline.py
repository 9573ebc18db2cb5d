"""Future events of the simulated world, in time order.

Instance events carry the instance's ``generation`` at scheduling time; a newer action bumps it,
which silently cancels the older action's remaining steps.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from novita_gpu.emulator.models import JobState, SpotStatus, Status

_EPSILON = 1e-6
"""Tolerance for float sums of step durations against the clock's microseconds."""


@dataclass(frozen=True)
class StatusStep:
    """Enter ``status``."""

    instance_id: str
    generation: int
    status: Status


@dataclass(frozen=True)
class SpotStep:
    """Advance a spot reclaim to ``spot_status``."""

    instance_id: str
    generation: int
    spot_status: SpotStatus


@dataclass(frozen=True)
class JobStep:
    """Move a migration job to ``state``."""

    job_id: str
    state: JobState


@dataclass(frozen=True)
class Purge:
    """Forget a removed instance (afterwards it is not-found)."""

    instance_id: str
    generation: int


Event = StatusStep | SpotStep | JobStep | Purge


class Timeline:
    """A priority queue of events; ties keep scheduling order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Event]] = []
        self._seq = itertools.count()

    def schedule(self, at: float, event: Event) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), event))

    def pop_due(self, now: float) -> tuple[float, Event] | None:
        """The earliest event due at or before ``now`` (removed), or ``None``."""
        if not self._heap or self._heap[0][0] > now + _EPSILON:
            return None
        at, _, event = heapq.heappop(self._heap)
        return at, event

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)
