"""The cost-control rules as pure functions of one instance row and the time.

- **Runtime cap**: ``maxRuntimeMinutes`` stops an instance that has run that long since it last
  began running, heartbeats or not.
- **Idle**: an instance ``ready``/``running`` with auto-stop on is idle when no heartbeat arrived
  for its ``idleMinutes``. Before the first heartbeat the clock starts when it became ready, and it
  is also protected for the grace period (after a start, or after the create when it was never
  started): it is stopped at ``readyAt + max(idleMinutes, grace)``.
- **Auto-delete**: ``autoDelete.afterStoppedMinutes`` deletes an instance stopped that long.

A verdict is only acted on when upstream confirms the state it was made for (:func:`confirmed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from novita_gpu.core.config import Settings
from novita_gpu.db.models import Instance
from novita_gpu.instances.states import Status
from novita_gpu.instances.views import iso, minutes

Action = Literal["stop", "delete"]
Reason = Literal["idle", "max_runtime", "stopped_too_long"]

#: Statuses the runtime cap applies to (upstream runs the instance, no stop asked yet).
CAPPED = frozenset({Status.RUNNING, Status.HEALTH_CHECKING, Status.READY})
#: Statuses in which an instance can be idle.
IDLE_ELIGIBLE = frozenset({Status.RUNNING, Status.READY})
#: Every status a rule looks at.
WATCHED = CAPPED | {Status.STOPPED}
# The upstream status each action needs to see in this pass before it is taken.
_CONFIRMS: dict[Action, str] = {"stop": "running", "delete": "exited"}


@dataclass(frozen=True)
class Policy:
    """The server-wide defaults the rules fall back on (``AUTO_STOP_*``)."""

    idle_minutes: float
    startup_grace_minutes: float
    creation_grace_minutes: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            idle_minutes=settings.auto_stop_idle_minutes,
            startup_grace_minutes=settings.auto_stop_startup_grace_minutes,
            creation_grace_minutes=settings.auto_stop_creation_grace_minutes,
        )


@dataclass(frozen=True)
class Verdict:
    """What a rule decided for one instance, and the facts behind it (the event's data)."""

    action: Action
    reason: Reason
    data: dict[str, Any] = field(default_factory=dict)


def _minutes_between(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 60, 3)


def verdict(instance: Instance, now: datetime, policy: Policy) -> Verdict | None:
    """The action due for ``instance`` at ``now``, or None."""
    status = Status(instance.status)
    if status in CAPPED:
        return runtime_cap(instance, now) or idle(instance, now, policy)
    if status == Status.STOPPED:
        return stopped_too_long(instance, now)
    return None


def runtime_cap(instance: Instance, now: datetime) -> Verdict | None:
    cap = instance.max_runtime_minutes
    since = instance.running_since
    if cap is None or since is None or now - since < timedelta(minutes=cap):
        return None
    return Verdict(
        "stop",
        "max_runtime",
        {
            "reason": "max_runtime",
            "maxRuntimeMinutes": minutes(cap),
            "runtimeMinutes": _minutes_between(since, now),
            "runningSince": iso(since),
        },
    )


def _idle_clock(instance: Instance, policy: Policy) -> tuple[datetime, float] | None:
    """When the idle clock started and the minimum minutes before a stop (grace included)."""
    threshold = instance.auto_stop_idle_minutes or policy.idle_minutes
    became_ready = instance.ready_at or instance.running_since
    if instance.last_used_at is not None:
        candidates = [instance.last_used_at, *([became_ready] if became_ready else [])]
        return max(candidates), threshold
    if became_ready is None:
        return None
    started = instance.started_at is not None
    grace = policy.startup_grace_minutes if started else policy.creation_grace_minutes
    return became_ready, max(threshold, grace)


def idle(instance: Instance, now: datetime, policy: Policy) -> Verdict | None:
    if not instance.auto_stop_enabled or Status(instance.status) not in IDLE_ELIGIBLE:
        return None
    clock = _idle_clock(instance, policy)
    if clock is None or now - clock[0] < timedelta(minutes=clock[1]):
        return None
    threshold = instance.auto_stop_idle_minutes or policy.idle_minutes
    return Verdict(
        "stop",
        "idle",
        {
            "reason": "idle",
            "idleMinutes": minutes(threshold),
            "idleForMinutes": _minutes_between(clock[0], now),
            "lastUsedAt": iso(instance.last_used_at),
        },
    )


def stopped_too_long(instance: Instance, now: datetime) -> Verdict | None:
    after = instance.auto_delete_after_stopped_minutes
    since = instance.stopped_at
    if after is None or since is None or now - since < timedelta(minutes=after):
        return None
    return Verdict(
        "delete",
        "stopped_too_long",
        {
            "reason": "stopped_too_long",
            "afterStoppedMinutes": minutes(after),
            "stoppedForMinutes": _minutes_between(since, now),
            "stoppedAt": iso(since),
        },
    )


def confirmed(action: Action, upstream_status: str | None) -> bool:
    """True when upstream's status (from this pass) is the one ``action`` was decided for."""
    return upstream_status == _CONFIRMS[action]
