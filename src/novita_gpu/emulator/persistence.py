"""Keeping an emulator's instances across restarts: a JSON state file.

:func:`save_world` writes the instances, migration jobs, the capacity ledger and the simulated
clock offset (atomically: a temporary file, then a rename). :func:`load_world` puts them back
into a fresh :class:`World`. The catalog is not saved: it is rebuilt from the defaults.

Steps that were still scheduled when the state was saved are not replayed one by one. An
instance caught in a transition is moved to where that transition ends (``running`` after a
create or start, ``exited`` after a stop, gone after a delete); a migration still in flight ends
as failed, its instance ``exited``; a pending spot reclaim is scheduled again at its time.
"""

from __future__ import annotations

import dataclasses
import json
import os
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from novita_gpu.emulator.capacity import Reservation
from novita_gpu.emulator.catalog import EnvVar, Tool
from novita_gpu.emulator.models import (
    Credentials,
    Instance,
    Job,
    JobState,
    PortMapping,
    SpotStatus,
    Status,
    StatusError,
)
from novita_gpu.emulator.timeline import SpotStep
from novita_gpu.emulator.world import World

STATE_VERSION = 1
_ENDS_RUNNING = frozenset(
    {
        Status.TO_CREATE,
        Status.CREATING,
        Status.PULLING,
        Status.TO_START,
        Status.STARTING,
        Status.TO_RESTART,
        Status.RESTARTING,
        Status.TO_RESET,
        Status.RESETTING,
    }
)
_ENDS_EXITED = frozenset({Status.TO_STOP, Status.STOPPING, Status.FREEZING, Status.MIGRATING})
_ENDS_GONE = frozenset({Status.TO_REMOVE, Status.REMOVING, Status.REMOVED})


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot save {type(value).__name__}")


def world_state(world: World) -> dict[str, Any]:
    """Everything :func:`load_world` needs, as JSON-ready data."""
    world.settle()
    lifecycle = world.lifecycle
    return {
        "version": STATE_VERSION,
        "clockOffset": world.clock.offset,
        "capacity": world.capacity.snapshot(),
        "instances": [dataclasses.asdict(i) for i in lifecycle.instances.values()],
        "jobs": [dataclasses.asdict(j) for j in lifecycle.jobs.values()],
    }


def save_world(world: World, path: Path) -> None:
    """Write the world's state to ``path`` atomically."""
    text = json.dumps(world_state(world), default=_plain, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def load_world(world: World, path: Path) -> int:
    """Restore the state in ``path`` into ``world`` (which should be fresh); returns the number
    of instances restored. A missing file restores nothing. Raises ``ValueError`` for a file
    this version cannot read."""
    if not path.exists():
        return 0
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: not an emulator state file ({exc})") from None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: unsupported emulator state version")
    world.clock.offset = max(world.clock.offset, float(state.get("clockOffset", 0.0)))
    for pool in state["capacity"]:
        world.capacity.set(pool["productId"], pool["clusterId"], pool["available"])
    lifecycle = world.lifecycle
    for raw in state["jobs"]:
        job = _job(raw)
        lifecycle.jobs[job.id] = job
    for raw in state["instances"]:
        instance = _instance(raw)
        lifecycle.instances[instance.id] = instance
    _finish_interrupted(world)
    return len(lifecycle.instances)


def _finish_interrupted(world: World) -> None:
    lifecycle = world.lifecycle
    for job in lifecycle.jobs.values():
        if not job.finished:
            lifecycle.end_job(job, JobState.FAIL, "the emulator restarted during the migration")
    for instance in list(lifecycle.instances.values()):
        if instance.status in _ENDS_GONE:
            lifecycle.release(instance)
            del lifecycle.instances[instance.id]
        elif instance.status in _ENDS_RUNNING:
            lifecycle.interrupt(instance, Status.RUNNING)
        elif instance.status in _ENDS_EXITED:
            lifecycle.interrupt(instance, Status.EXITED)
        elif instance.spot_status is SpotStatus.NOTIFIED:
            step = SpotStep(instance.id, instance.generation, SpotStatus.RECLAIMING)
            lifecycle.timeline.schedule(instance.spot_reclaim_time, step)


def _reservation(raw: dict[str, Any] | None) -> Reservation | None:
    return Reservation(**raw) if raw else None


def _instance(raw: dict[str, Any]) -> Instance:
    fields = dict(raw)
    fields["ports"] = [PortMapping(**p) for p in raw["ports"]]
    fields["tools"] = [Tool.model_validate(t) for t in raw["tools"]]
    fields["envs"] = [EnvVar.model_validate(e) for e in raw["envs"]]
    fields["status"] = Status(raw["status"])
    previous = raw.get("previous_status")
    fields["previous_status"] = Status(previous) if previous else None
    error = raw.get("status_error")
    fields["status_error"] = StatusError(**error) if error else None
    fields["spot_status"] = SpotStatus(raw["spot_status"])
    fields["credentials"] = Credentials(**raw["credentials"])
    fields["tcp_proxy_ports"] = {int(k): v for k, v in raw["tcp_proxy_ports"].items()}
    fields["reservation"] = _reservation(raw.get("reservation"))
    return Instance(**fields)


def _job(raw: dict[str, Any]) -> Job:
    fields = dict(raw)
    fields["target"] = Reservation(**raw["target"])
    fields["state"] = JobState(raw["state"])
    return Job(**fields)
