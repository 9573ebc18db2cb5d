"""Event types and the event each status change emits."""

from __future__ import annotations

from enum import StrEnum

from novita_gpu.instances.states import Status


class EventType(StrEnum):
    CREATED = "instance.created"
    STARTING = "instance.starting"
    RUNNING = "instance.running"
    HEALTH_CHECKING = "instance.health_checking"
    READY = "instance.ready"
    STOPPING = "instance.stopping"
    STOPPED = "instance.stopped"
    DELETING = "instance.deleting"
    DELETED = "instance.deleted"
    FAILED = "instance.failed"
    TERMINATED = "instance.terminated"
    SPOT_RECLAIM_NOTICE = "instance.spot_reclaim_notice"
    MIGRATING = "instance.migrating"
    MIGRATED = "instance.migrated"
    AUTO_STOPPED = "instance.auto_stopped"
    AUTO_DELETED = "instance.auto_deleted"


EVENT_FOR_STATUS: dict[Status, EventType] = {
    Status.CREATING: EventType.CREATED,
    Status.STARTING: EventType.STARTING,
    Status.RUNNING: EventType.RUNNING,
    Status.HEALTH_CHECKING: EventType.HEALTH_CHECKING,
    Status.READY: EventType.READY,
    Status.STOPPING: EventType.STOPPING,
    Status.STOPPED: EventType.STOPPED,
    Status.DELETING: EventType.DELETING,
    Status.DELETED: EventType.DELETED,
    Status.MIGRATING: EventType.MIGRATING,
    Status.FAILED: EventType.FAILED,
    Status.TERMINATED: EventType.TERMINATED,
}
