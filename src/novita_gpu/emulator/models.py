"""Simulated instances and jobs (mutable, owned by the :class:`World`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from novita_gpu.emulator.capacity import Reservation
from novita_gpu.emulator.catalog import EnvVar, Tool


class Status(StrEnum):
    """Upstream instance statuses."""

    TO_CREATE = "toCreate"
    CREATING = "creating"
    PULLING = "pulling"
    RUNNING = "running"
    TO_START = "toStart"
    STARTING = "starting"
    TO_STOP = "toStop"
    STOPPING = "stopping"
    EXITED = "exited"
    TO_RESTART = "toRestart"
    RESTARTING = "restarting"
    TO_REMOVE = "toRemove"
    REMOVING = "removing"
    REMOVED = "removed"
    TO_RESET = "toReset"
    RESETTING = "resetting"
    MIGRATING = "migrating"
    FREEZING = "freezing"


class SpotStatus(StrEnum):
    NONE = ""
    RUNNING = "running"
    NOTIFIED = "notified"
    RECLAIMING = "reclaiming"
    TERMINATED = "terminated"


class JobState(StrEnum):
    PULLING = "pulling"
    RUNNING = "running"
    FAIL = "fail"
    SUCCESS = "success"
    BREAK = "break"


@dataclass
class PortMapping:
    port: int
    type: str


@dataclass
class StatusError:
    state: str
    message: str


@dataclass
class Credentials:
    """What rotates on every start: SSH proxy port and passwords."""

    ssh_port: int = 0
    ssh_password: str = ""
    terminal_password: str = ""


@dataclass
class Instance:
    """One simulated instance. Times are Unix seconds of simulated time (0 = never)."""

    id: str
    name: str
    product_id: str
    product_name: str
    cluster_id: str
    gpu_num: int
    cpu_num: int
    memory: int
    rootfs_size: int
    image_url: str
    image_auth_id: str
    command: str
    entrypoint: str
    ports: list[PortMapping]
    tools: list[Tool]
    envs: list[EnvVar]
    kind: str
    billing_mode: str
    price: int
    """Hourly price of the whole instance, 1/100000 USD."""
    end_time: str
    created_at: float
    status: Status = Status.TO_CREATE
    previous_status: Status | None = None
    generation: int = 0
    """Bumped by every action; scheduled steps of older actions are ignored."""
    last_started_at: float = 0
    last_stopped_at: float = 0
    running_since: float = 0
    status_error: StatusError | None = None
    spot_status: SpotStatus = SpotStatus.NONE
    spot_reclaim_time: float = 0
    credentials: Credentials = field(default_factory=Credentials)
    tcp_proxy_ports: dict[int, int] = field(default_factory=dict)
    app_healthy: bool = True
    boot_seconds: float | None = None
    """Per-instance override of the config's app boot time."""
    reservation: Reservation | None = None
    history: list[str] = field(default_factory=list)

    @property
    def is_spot(self) -> bool:
        return self.billing_mode == "spot"


@dataclass
class Job:
    """An ``instanceMigrate`` job; ``outcome`` is decided when it starts."""

    id: str
    type: str
    instance_id: str
    created_at: float
    outcome: str
    target: Reservation
    target_cpu_num: int
    target_memory: int
    target_price: int
    state: JobState = JobState.PULLING
    error: str = ""
    error_message: str = ""

    @property
    def finished(self) -> bool:
        return self.state in (JobState.FAIL, JobState.SUCCESS, JobState.BREAK)
