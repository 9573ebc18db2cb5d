"""What a start, stop or delete request does in each status: pure decisions, no I/O.

Each rule returns ``CALL`` (ask upstream), ``NOOP`` (the end state already holds or is on its
way: answer 202 without an upstream call) or raises the 409 that explains the refusal.
"""

from __future__ import annotations

from enum import Enum

from novita_gpu.core.errors import (
    InstanceNotStartable,
    InstanceNotStoppable,
    OperationInProgress,
)
from novita_gpu.db.models import Instance
from novita_gpu.instances.states import Status, UpstreamStatus, parse_upstream_status


class Decision(Enum):
    CALL = "call"
    NOOP = "noop"


_UP_OR_COMING_UP = frozenset(
    {Status.CREATING, Status.STARTING, Status.RUNNING, Status.HEALTH_CHECKING, Status.READY}
)
_UPSTREAM_ALIVE = frozenset(
    {
        UpstreamStatus.RUNNING,
        UpstreamStatus.STARTING,
        UpstreamStatus.TO_START,
        UpstreamStatus.PULLING,
        UpstreamStatus.CREATING,
        UpstreamStatus.TO_CREATE,
        UpstreamStatus.RESTARTING,
        UpstreamStatus.TO_RESTART,
    }
)


def _details(instance: Instance) -> dict[str, str | None]:
    return {"instanceId": instance.id, "status": instance.status}


def decide_start(instance: Instance) -> Decision:
    status = Status(instance.status)
    if status in _UP_OR_COMING_UP:
        return Decision.NOOP
    if status in {Status.STOPPING, Status.MIGRATING, Status.DELETING}:
        raise OperationInProgress(
            f"Instance is {status.value}; try again when it has finished",
            details=_details(instance),
        )
    if status == Status.DELETED:
        raise InstanceNotStartable("Instance is deleted", details=_details(instance))
    if instance.novita_instance_id is None:
        raise InstanceNotStartable(
            "Instance was never created on Novita; create it again", details=_details(instance)
        )
    return Decision.CALL


def decide_stop(instance: Instance) -> Decision:
    status = Status(instance.status)
    if status in {Status.STOPPED, Status.STOPPING}:
        return Decision.NOOP
    if status in {Status.DELETED, Status.DELETING}:
        raise InstanceNotStoppable(f"Instance is {status.value}", details=_details(instance))
    if status == Status.MIGRATING:
        raise OperationInProgress("Instance is migrating", details=_details(instance))
    if status in _UP_OR_COMING_UP:
        return Decision.CALL
    if parse_upstream_status(instance.upstream_status) in _UPSTREAM_ALIVE:
        return Decision.CALL  # failed here, but still running (and billed) upstream
    raise InstanceNotStoppable("Instance is not running", details=_details(instance))


def decide_delete(instance: Instance) -> Decision:
    if Status(instance.status) in {Status.DELETED, Status.DELETING}:
        return Decision.NOOP
    return Decision.CALL
