"""Status changes: the one place that moves an instance between local statuses.

A change updates the timeline fields (started, ready, stopped, deleted), accrues runtime when
the instance leaves a running status, and records the event in the same transaction. Callers
own the transaction; nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from novita_gpu.db.models import Instance, InstanceEvent
from novita_gpu.events.service import EventRecorder
from novita_gpu.events.types import EVENT_FOR_STATUS, EventType
from novita_gpu.instances.states import ACCRUING, Status


def _accrue(instance: Instance, new_status: Status, now: datetime) -> None:
    was_accruing = instance.status in ACCRUING
    will_accrue = new_status in ACCRUING
    if was_accruing and not will_accrue and instance.running_since is not None:
        instance.runtime_seconds += max(0.0, (now - instance.running_since).total_seconds())
        instance.running_since = None
    elif will_accrue and not was_accruing:
        instance.running_since = now


def _end_saving(instance: Instance, now: datetime) -> None:
    """Auto-stop saves money until the next start (or the delete): fold that span in."""
    if instance.auto_stopped_at is not None:
        saved = max(0.0, (now - instance.auto_stopped_at).total_seconds())
        instance.saved_seconds = (instance.saved_seconds or 0.0) + saved
        instance.auto_stopped_at = None


def _stamp(instance: Instance, status: Status, now: datetime) -> None:
    match status:
        case Status.STARTING:
            instance.started_at = now
            instance.ready_at = None
            # A (re)start begins a new idle clock: the previous heartbeat no longer counts.
            instance.last_used_at = None
            _end_saving(instance, now)
        case Status.READY:
            instance.ready_at = now
        case Status.STOPPED:
            instance.stopped_at = now
        case Status.DELETED:
            instance.deleted_at = now
            _end_saving(instance, now)
        case _:
            pass


async def change_status(
    recorder: EventRecorder,
    instance: Instance,
    status: Status,
    *,
    event_type: EventType | None = None,
    data: dict[str, Any] | None = None,
    error: str | None = None,
) -> InstanceEvent | None:
    """Move ``instance`` to ``status`` and record the event.

    A change to the status the instance already has records nothing, unless ``event_type``
    asks for an event anyway (a notice such as ``instance.spot_reclaim_notice``). ``error``
    becomes ``lastError`` and the event's ``error``.
    """
    previous = Status(instance.status)
    if previous == status and event_type is None:
        return None
    now = recorder.clock.now()
    if previous != status:
        _accrue(instance, status, now)
        _stamp(instance, status, now)
        instance.status = status.value
        instance.status_changed_at = now
    if error is not None:
        instance.last_error = error
    instance.updated_at = now
    payload: dict[str, Any] = {"previousStatus": previous.value, **(data or {})}
    payload.setdefault("upstreamStatus", instance.upstream_status)
    if error is not None:
        payload["error"] = error
    return await recorder.record(instance, event_type or EVENT_FOR_STATUS[status], payload)
