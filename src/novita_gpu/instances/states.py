"""The local status machine and the mapping from every upstream status.

Local statuses describe what the user can do with an instance; the raw Novita status is kept
beside them in ``upstreamStatus``. :func:`status_for_upstream` folds an upstream status into a
local one; readiness (``health_checking`` -> ``ready``) and our own intents (``stopping``,
``deleting``) are layered on top by the service and the reconciler.
"""

from __future__ import annotations

from enum import StrEnum

from novita_gpu.upstream import InstanceStatus


class Status(StrEnum):
    CREATING = "creating"
    STARTING = "starting"
    RUNNING = "running"
    HEALTH_CHECKING = "health_checking"
    READY = "ready"
    STOPPING = "stopping"
    STOPPED = "stopped"
    DELETING = "deleting"
    DELETED = "deleted"
    MIGRATING = "migrating"
    FAILED = "failed"
    TERMINATED = "terminated"


UpstreamStatus = InstanceStatus
"""Every status value Novita documents, plus ``pending`` seen live."""


_UPSTREAM_TO_LOCAL: dict[UpstreamStatus, Status] = {
    UpstreamStatus.TO_CREATE: Status.CREATING,
    UpstreamStatus.CREATING: Status.CREATING,
    UpstreamStatus.PULLING: Status.CREATING,
    UpstreamStatus.PENDING: Status.CREATING,
    UpstreamStatus.RUNNING: Status.RUNNING,
    UpstreamStatus.TO_START: Status.STARTING,
    UpstreamStatus.STARTING: Status.STARTING,
    UpstreamStatus.TO_RESTART: Status.STARTING,
    UpstreamStatus.RESTARTING: Status.STARTING,
    UpstreamStatus.TO_RESET: Status.STARTING,
    UpstreamStatus.RESETTING: Status.STARTING,
    UpstreamStatus.TO_STOP: Status.STOPPING,
    UpstreamStatus.STOPPING: Status.STOPPING,
    UpstreamStatus.FREEZING: Status.STOPPING,
    UpstreamStatus.EXITED: Status.STOPPED,
    UpstreamStatus.TO_REMOVE: Status.DELETING,
    UpstreamStatus.REMOVING: Status.DELETING,
    UpstreamStatus.REMOVED: Status.DELETED,
    UpstreamStatus.MIGRATING: Status.MIGRATING,
}

# Legacy capitalised values some backends still send.
_LEGACY: dict[str, UpstreamStatus] = {
    "Running": UpstreamStatus.RUNNING,
    "Exited": UpstreamStatus.EXITED,
    "Starting": UpstreamStatus.STARTING,
    "Stopping": UpstreamStatus.STOPPING,
    "toBeCreated": UpstreamStatus.TO_CREATE,
    "created": UpstreamStatus.CREATING,
    "toBeStarted": UpstreamStatus.TO_START,
    "toBeExited": UpstreamStatus.TO_STOP,
    "toBeTerminated": UpstreamStatus.TO_REMOVE,
    "terminating": UpstreamStatus.REMOVING,
    "terminated": UpstreamStatus.REMOVED,
}

#: Statuses in which the instance may be billed and is worth watching closely.
TRANSITIONAL: frozenset[Status] = frozenset(
    {
        Status.CREATING,
        Status.STARTING,
        Status.RUNNING,
        Status.HEALTH_CHECKING,
        Status.STOPPING,
        Status.DELETING,
        Status.MIGRATING,
    }
)
#: Nothing more will happen to these without a user action.
TERMINAL: frozenset[Status] = frozenset({Status.DELETED})
#: Start is allowed from these.
STARTABLE: frozenset[Status] = frozenset({Status.STOPPED, Status.FAILED, Status.TERMINATED})
#: Stop is allowed from these ("anything alive").
STOPPABLE: frozenset[Status] = frozenset(
    {Status.CREATING, Status.STARTING, Status.RUNNING, Status.HEALTH_CHECKING, Status.READY}
)
#: Upstream runs the instance: runtime and cost accrue.
ACCRUING: frozenset[Status] = frozenset(
    {Status.RUNNING, Status.HEALTH_CHECKING, Status.READY, Status.STOPPING}
)
#: Will be billed soon or is billed now: counts against SPEND_LIMIT_USD_PER_HOUR.
COMMITTED_SPEND: frozenset[Status] = ACCRUING | {
    Status.CREATING,
    Status.STARTING,
    Status.MIGRATING,
}


def parse_upstream_status(raw: str | None) -> UpstreamStatus | None:
    """The known upstream status for ``raw`` (legacy spellings included), or None."""
    if not raw:
        return None
    try:
        return UpstreamStatus(raw)
    except ValueError:
        return _LEGACY.get(raw)


def status_for_upstream(raw: str | None) -> Status | None:
    """The local status an upstream status implies, or None when it is unknown."""
    known = parse_upstream_status(raw)
    return _UPSTREAM_TO_LOCAL[known] if known else None


#: Running upstream (readiness is ours to judge).
UP: frozenset[Status] = frozenset({Status.RUNNING, Status.HEALTH_CHECKING, Status.READY})
_BOOTING = frozenset({Status.CREATING, Status.STARTING, Status.RUNNING})
# Our own verdicts and intents that an upstream status alone does not overrule.
_STICKY = frozenset({Status.FAILED, Status.TERMINATED, Status.MIGRATING, Status.DELETED})


def fold_upstream_status(current: Status, raw: str | None) -> Status:
    """The local status after upstream reported ``raw`` while we had ``current``.

    Readiness is ours: upstream ``running`` keeps ``health_checking``/``ready``. A stop or
    delete we asked for stays in progress until upstream reaches its end state, and our own
    verdicts (failed, terminated, migrating, deleted) are changed only by the code that owns
    them.
    """
    implied = status_for_upstream(raw)
    if implied is None or current in _STICKY:
        return current
    if implied == Status.RUNNING and current in UP:
        return current
    if current == Status.STOPPING and implied in _BOOTING:
        return current
    if current == Status.DELETING and implied != Status.DELETED:
        return current
    return implied
