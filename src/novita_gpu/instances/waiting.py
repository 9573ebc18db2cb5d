"""Long-poll: wait until an instance reaches a status (``GET ...?waitFor=ready``).

Waiters re-read the row whenever this process commits events about their instance (the event
bus names the instances a commit touched) and at least every :data:`POLL_SECONDS`, so a change
made by another replica is seen too. A commit that lands between a read and the wait is not
missed (the bus generation is compared), and a shutting-down app answers waiters at once.
"""

from __future__ import annotations

from typing import Literal, cast

from novita_gpu.context import AppContext
from novita_gpu.instances.repository import view_by_reference_query
from novita_gpu.instances.states import Status
from novita_gpu.instances.views import InstanceRecord

POLL_SECONDS = 1.0
WaitOutcome = Literal["reached", "failed", "timeout"]

_GIVE_UP = frozenset({Status.FAILED, Status.TERMINATED, Status.DELETED})
# Reaching ``ready`` passes through ``running``; waiting for ``running`` is satisfied by both.
_AT_LEAST = {Status.RUNNING: frozenset({Status.RUNNING, Status.HEALTH_CHECKING, Status.READY})}


def _outcome(instance: InstanceRecord, target: Status) -> WaitOutcome | None:
    status = Status(instance.status)
    if status in _AT_LEAST.get(target, frozenset({target})):
        return "reached"
    if status in _GIVE_UP:
        return "failed"  # failed, terminated or deleted, and that was not the wish
    return None


async def wait_for_status(
    ctx: AppContext, instance: InstanceRecord, target: Status, timeout: float
) -> tuple[InstanceRecord, WaitOutcome]:
    """The instance once it reaches ``target`` (or gives up, or ``timeout`` seconds pass)."""
    clock = ctx.clock
    deadline = clock.monotonic() + timeout
    next_read = clock.monotonic() + POLL_SECONDS
    seen = ctx.bus.generation
    while True:
        outcome = _outcome(instance, target)
        if outcome is not None:
            return instance, outcome
        remaining = deadline - clock.monotonic()
        if remaining <= 0 or ctx.bus.closed:
            return instance, "timeout"
        await ctx.bus.wait(max(0.0, min(next_read, deadline) - clock.monotonic()), since=seen)
        due = ctx.bus.touched(instance.id, since=seen) or clock.monotonic() >= min(
            next_read, deadline
        )
        seen = ctx.bus.generation
        if not due:
            continue  # commits about other instances only
        next_read = clock.monotonic() + POLL_SECONDS
        rows = await ctx.db.fetch(view_by_reference_query(instance.id))
        instance = cast(InstanceRecord, rows[0]) if rows else instance
