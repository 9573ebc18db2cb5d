"""Long-poll: wait until an instance reaches a status (``GET ...?waitFor=ready``).

Waiters re-read the row whenever this process commits events (the event bus) and at least
every :data:`POLL_SECONDS`, so a change made by another replica is seen too.
"""

from __future__ import annotations

from typing import Literal

from novita_gpu.core.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.instances.states import Status

POLL_SECONDS = 1.0
WaitOutcome = Literal["reached", "failed", "timeout"]

_GIVE_UP = frozenset({Status.FAILED, Status.TERMINATED, Status.DELETED})
# Reaching ``ready`` passes through ``running``; waiting for ``running`` is satisfied by both.
_AT_LEAST = {Status.RUNNING: frozenset({Status.RUNNING, Status.HEALTH_CHECKING, Status.READY})}


def _outcome(instance: Instance, target: Status) -> WaitOutcome | None:
    status = Status(instance.status)
    if status in _AT_LEAST.get(target, frozenset({target})):
        return "reached"
    if status in _GIVE_UP:
        return "failed"
    return None


async def wait_for_status(
    ctx: AppContext, instance: Instance, target: Status, timeout: float
) -> tuple[Instance, WaitOutcome]:
    """The instance once it reaches ``target`` (or gives up, or ``timeout`` seconds pass)."""
    deadline = ctx.clock.monotonic() + timeout
    while True:
        outcome = _outcome(instance, target)
        if outcome is not None:
            return instance, outcome
        remaining = deadline - ctx.clock.monotonic()
        if remaining <= 0:
            return instance, "timeout"
        await ctx.bus.wait(min(POLL_SECONDS, remaining))
        async with ctx.db.read() as session:
            fresh = await session.get(Instance, instance.id)
        instance = fresh or instance
