"""Typed views of Novita's instance and job responses.

Status strings outside the documented enum (``pending``, the console's legacy ``Running``) are
kept as they came; :attr:`UpstreamInstance.known_status` says whether a status is one of the
documented values. SSH access is read from ``connectComponentSSH`` (``sshCommand`` or
``command``, ``password``, ``user``) with a fallback to the legacy flat ``sshCommand``/
``sshPassword``. ``node`` is accepted as one object (what the console and the typed public SDK
read) or as a list of them. A job's failure reason is read from ``errorMessage`` or ``message``.

List pages validate each item on its own (:mod:`novita_gpu.upstream.lenient`): an item that
cannot be understood lands in the page's ``skipped`` list instead of failing the page.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, model_validator

from novita_gpu.upstream.fields import (
    Count,
    Flag,
    NullAsEmpty,
    OptionalCount,
    OptionalText,
    PriceUnits,
    Secret,
    SSHEndpoint,
    Text,
    UnixTime,
    parse_ssh_command,
)
from novita_gpu.upstream.lenient import SkippedItem, lenient_list
from novita_gpu.upstream.models import EnvVar, UpstreamModel


class InstanceStatus(StrEnum):
    """The documented instance statuses, plus ``pending``, which the real
    API was seen to return while creating."""

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
    PENDING = "pending"


REMOVAL_STATUSES = frozenset(
    {InstanceStatus.TO_REMOVE, InstanceStatus.REMOVING, InstanceStatus.REMOVED}
)
"""Statuses of an instance that is gone or going: it no longer counts as a live instance."""


class PortMapping(UpstreamModel):
    """An exposed port; ``endpoint`` is its public URL (http) or ``host:port`` (tcp)."""

    port: Count = 0
    type: Text = ""
    endpoint: OptionalText = None


class StatusError(UpstreamModel):
    """Why the last transition failed."""

    state: Text = ""
    message: Text = ""


def _empty_status_error(value: Any) -> Any:
    if isinstance(value, dict) and not any(value.values()):
        return None
    return value


class VolumeMount(UpstreamModel):
    """A mounted volume. ``size`` comes as a string in lists and a number in get."""

    type: Text = ""
    size: OptionalCount = None
    id: OptionalText = None
    mount_path: Text = ""


class InstanceNetwork(UpstreamModel):
    """VPC membership."""

    id: Text = ""
    ip: Text = ""


class NodeInfo(UpstreamModel):
    """The node an instance runs on."""

    max_rootfs_size: OptionalCount = None


def _one_or_many(value: Any) -> Any:
    """Sources disagree on whether ``node`` is an object or a list of objects: accept both."""
    return [value] if isinstance(value, dict) else value


class InstanceJobRef(UpstreamModel):
    """A job running on an instance (e.g. ``saveImage``)."""

    id: Text = ""
    type: Text = ""


class ConnectSSH(UpstreamModel):
    """``connectComponentSSH``. Endpoint and password rotate on every start. The docs name the
    command ``sshCommand``; the typed public SDK reads ``command`` and a separate ``user``."""

    ssh_command: OptionalText = Field(
        default=None, validation_alias=AliasChoices("sshCommand", "command", "ssh_command")
    )
    user: OptionalText = None
    password: Secret = None
    is_running: Flag = False
    host_key: OptionalText = None
    """The server's public host key (``ssh-ed25519 AAAA...``) when upstream publishes one
    (the emulator's SSH server does; Novita's proxy does not)."""


class ConnectWebTerminal(UpstreamModel):
    """``connectComponentWebTerminal``."""

    address: OptionalText = None
    username: OptionalText = None
    password: Secret = None
    is_running: Flag = False


class ConnectJupyter(UpstreamModel):
    """``connectComponentJupyter``; ``address`` only when Jupyter is enabled."""

    port: OptionalCount = None
    address: OptionalText = None
    is_running: Flag = False


class ConnectLog(UpstreamModel):
    """``connectComponentLog``: HTTP-stream log URLs."""

    system_log_address: OptionalText = None
    instance_log_address: OptionalText = None
    is_running: Flag = False


class UpstreamInstance(UpstreamModel):
    """An instance as list or get returns it (the union of both documented shapes)."""

    id: str
    name: Text = ""
    cluster_id: Text = ""
    cluster_name: Text = ""
    status: Text = ""
    status_error: Annotated[StatusError | None, BeforeValidator(_empty_status_error)] = None
    image_url: Text = ""
    image_auth_id: OptionalText = None
    command: Text = ""
    entrypoint: Text = ""
    cpu_num: Count = 0
    memory: Count = 0
    gpu_num: Count = 0
    product_id: Text = ""
    product_name: Text = ""
    rootfs_size: Count = 0
    port_mappings: Annotated[list[PortMapping], NullAsEmpty] = Field(default_factory=list)
    volume_mounts: Annotated[list[VolumeMount], NullAsEmpty] = Field(default_factory=list)
    envs: Annotated[list[EnvVar], NullAsEmpty] = Field(default_factory=list)
    kind: Text = ""
    billing_mode: OptionalText = None
    end_time: UnixTime = None
    spot_status: OptionalText = None
    spot_reclaim_time: UnixTime = None
    created_at: UnixTime = None
    last_started_at: UnixTime = None
    last_stopped_at: UnixTime = None
    network: InstanceNetwork | None = None
    node: Annotated[list[NodeInfo], NullAsEmpty, BeforeValidator(_one_or_many)] = Field(
        default_factory=list
    )
    jobs: Annotated[list[InstanceJobRef], NullAsEmpty] = Field(default_factory=list)
    connect_ssh: ConnectSSH | None = Field(default=None, alias="connectComponentSSH")
    connect_web_terminal: ConnectWebTerminal | None = Field(
        default=None, alias="connectComponentWebTerminal"
    )
    connect_jupyter: ConnectJupyter | None = Field(default=None, alias="connectComponentJupyter")
    connect_log: ConnectLog | None = Field(default=None, alias="connectComponentLog")
    legacy_ssh_command: OptionalText = Field(default=None, alias="sshCommand")
    legacy_ssh_password: Secret = Field(default=None, alias="sshPassword")
    instance_price: PriceUnits = None
    free_storage_size: OptionalCount = None
    keep_data_day: OptionalCount = None

    @property
    def known_status(self) -> InstanceStatus | None:
        """:attr:`status` as a documented value, or ``None`` for an undocumented one."""
        try:
            return InstanceStatus(self.status)
        except ValueError:
            return None

    @property
    def ssh_command(self) -> str | None:
        """The ssh command, from ``connectComponentSSH`` or the legacy flat field."""
        nested = self.connect_ssh.ssh_command if self.connect_ssh else None
        return nested or self.legacy_ssh_command

    @property
    def ssh_password(self) -> SecretStr | None:
        """The ssh password, from ``connectComponentSSH`` or the legacy flat field."""
        nested = self.connect_ssh.password if self.connect_ssh else None
        return nested or self.legacy_ssh_password

    @property
    def ssh(self) -> SSHEndpoint | None:
        """Host, port and user parsed from :attr:`ssh_command` (``user`` when it names none)."""
        endpoint = parse_ssh_command(self.ssh_command)
        user = self.connect_ssh.user if self.connect_ssh else None
        if endpoint is None or not user or "@" in (self.ssh_command or ""):
            return endpoint
        return SSHEndpoint(host=endpoint.host, port=endpoint.port, user=user)

    @property
    def is_removed(self) -> bool:
        """True when the instance is deleted or being deleted."""
        return self.status in REMOVAL_STATUSES


class InstancePage(UpstreamModel):
    """One page of instances; ``total`` counts every match when Novita reports it;
    ``skipped`` lists the items that could not be read."""

    instances: Annotated[list[UpstreamInstance], NullAsEmpty] = Field(default_factory=list)
    total: OptionalCount = None
    skipped: list[SkippedItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _skip_unreadable(cls, data: Any) -> Any:
        return lenient_list(data, "instances", UpstreamInstance)


def _job_state(value: Any) -> Any:
    return {"state": value} if isinstance(value, str) else value


class JobState(UpstreamModel):
    """A job's state: ``pulling``, ``running``, ``fail``, ``success`` or ``break``."""

    state: Text = ""
    error: Text = ""
    error_message: Text = ""
    message: Text = ""

    @property
    def reason(self) -> str:
        """Why the job failed: ``errorMessage`` (docs), ``message`` (typed SDK) or ``error``."""
        return self.error_message or self.message or self.error


class Job(UpstreamModel):
    """An asynchronous job (save image, migrate). Novita spells the id ``Id``."""

    id: str = Field(validation_alias=AliasChoices("Id", "id"))
    user: Text = ""
    type: Text = ""
    envs: Annotated[list[EnvVar], NullAsEmpty] = Field(default_factory=list)
    state: Annotated[JobState, BeforeValidator(_job_state)] = JobState()
    log_address: OptionalText = None
    created_at: UnixTime = None
    instance_id: Text = ""


class JobPage(UpstreamModel):
    """One page of jobs."""

    jobs: Annotated[list[Job], NullAsEmpty] = Field(default_factory=list)
    total: OptionalCount = None
    skipped: list[SkippedItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _skip_unreadable(cls, data: Any) -> Any:
        return lenient_list(data, "jobs", Job)


class ActionResult(UpstreamModel):
    """The answer to start/stop/restart/delete. Novita documents none; both keys may be absent."""

    instance_id: OptionalText = None
    state: OptionalText = None


class MigrateResult(UpstreamModel):
    """The answer to migrate. Undocumented; every key is optional."""

    instance_id: OptionalText = None
    new_instance_id: OptionalText = None
    job_id: OptionalText = None
    message: OptionalText = None


class CreatedInstance(UpstreamModel):
    """The answer to create: the new instance's id."""

    id: str = Field(min_length=1)
