"""Typed views of Novita's GPU-instance API responses (UPSTREAM.md §4).

The models are lenient on purpose: unknown fields are ignored, missing fields take empty
defaults, and the value quirks of the real API are absorbed by the types in
:mod:`novita_gpu.upstream.fields`. Status strings outside the documented enum (``pending``, the
console's legacy ``Running``) are kept as they came; :attr:`UpstreamInstance.known_status`
says whether a status is one of the documented values. Passwords are ``SecretStr`` and
environment values are left out of reprs.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from novita_gpu.upstream.fields import (
    Count,
    Flag,
    OptionalCount,
    OptionalText,
    PriceUnits,
    Secret,
    SSHEndpoint,
    Text,
    UnixTime,
    none_to_empty_list,
    parse_ssh_command,
    region_code,
    usd,
)

_AsList = BeforeValidator(none_to_empty_list)


class InstanceStatus(StrEnum):
    """The documented instance statuses (UPSTREAM.md §3.1)."""

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


REMOVAL_STATUSES = frozenset(
    {InstanceStatus.TO_REMOVE, InstanceStatus.REMOVING, InstanceStatus.REMOVED}
)
"""Statuses of an instance that is gone or going: it no longer counts as a live instance."""


class UpstreamModel(BaseModel):
    """Base for response models: camelCase aliases, numeric ids read as strings, extra fields
    ignored, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        coerce_numbers_to_str=True,
        extra="ignore",
        frozen=True,
    )


class EnvVar(UpstreamModel):
    """An environment variable. The value may be a secret, so it is not in the repr."""

    key: Text = ""
    value: Text = Field(default="", repr=False)


class PortSpec(UpstreamModel):
    """A port to expose: ``8888/http``."""

    port: int = Field(ge=1, le=65535)
    type: Literal["http", "tcp"] = "http"

    def __str__(self) -> str:
        return f"{self.port}/{self.type}"


class Cluster(UpstreamModel):
    """A Novita cluster (region), e.g. id ``us-ca-6`` named ``US-CA-06``."""

    id: str
    name: Text = ""
    available_gpu_type: Annotated[list[str], _AsList] = []
    support_network_storage: Flag = False
    support_instance_network: Flag = False


class MonthlyPrice(UpstreamModel):
    """A subscription tier: ``price`` units per hour for ``month`` months."""

    price: PriceUnits = None
    month: Count = 0


class Product(UpstreamModel):
    """A GPU product offer. Prices are raw units of 1/100,000 USD per hour."""

    id: str
    name: Text = ""
    cpu_per_gpu: Count = 0
    memory_per_gpu: Count = 0
    disk_per_gpu: Count = 0
    available_deploy: Flag = False
    min_root_fs: Count = Field(default=0, alias="minRootFS")
    max_root_fs: Count = Field(default=0, alias="maxRootFS")
    min_local_storage: Count = 0
    max_local_storage: Count = 0
    regions: Annotated[list[str], _AsList] = []
    price: PriceUnits = None
    monthly_price: Annotated[list[MonthlyPrice], _AsList] = []
    billing_methods: Annotated[list[str], _AsList] = []
    spot_price: PriceUnits = None
    inventory_state: OptionalText = None

    @property
    def region_codes(self) -> list[str]:
        """Cluster codes of :attr:`regions` (``"US-CA-06 (California)"`` -> ``"US-CA-06"``).

        An empty list means the product is offered in every cluster.
        """
        return [region_code(region) for region in self.regions]

    @property
    def price_usd(self) -> Decimal | None:
        """On-demand price in USD per hour."""
        return None if self.price is None else usd(self.price)

    @property
    def spot_price_usd(self) -> Decimal | None:
        """Spot price in USD per hour (``None`` when not offered as spot)."""
        return None if not self.spot_price else usd(self.spot_price)


class TemplatePortGroup(UpstreamModel):
    """Template ports grouped by type: ``{"type": "http", "ports": [8888]}``."""

    type: Text = "http"
    ports: Annotated[list[Count], _AsList] = []


class TemplateTool(UpstreamModel):
    """A tool an official template offers, e.g. Jupyter on 8888/http."""

    name: Text = ""
    describe: Text = ""
    port: Count = 0
    type: Text = ""


class RecommendCard(UpstreamModel):
    """A GPU spec a template recommends."""

    gpu_spec_id: Text = ""
    card_num: Count = 0


class Template(UpstreamModel):
    """An instance template. ``image_auth`` is a registry-auth *id*, not credentials."""

    id: str = Field(validation_alias=AliasChoices("Id", "id"))
    name: Text = ""
    readme: Text = Field(default="", repr=False)
    type: Text = ""
    channel: Text = ""
    image: Text = ""
    image_auth: OptionalText = None
    start_command: Text = ""
    entrypoint: Text = ""
    rootfs_size: Count = 0
    ports: Annotated[list[TemplatePortGroup], _AsList] = []
    envs: Annotated[list[EnvVar], _AsList] = []
    tools: Annotated[list[TemplateTool], _AsList] = []
    created_at: UnixTime = Field(
        default=None, validation_alias=AliasChoices("createdAt", "createTime")
    )
    recommend_cards: Annotated[list[RecommendCard], _AsList] = []
    min_cuda_version: OptionalText = None

    def port_specs(self) -> list[PortSpec]:
        """The template's ports flattened for a create request (``8888/http``, ``22/tcp``)."""
        return [
            PortSpec(port=port, type="tcp" if group.type == "tcp" else "http")
            for group in self.ports
            for port in group.ports
        ]


class TemplatePage(UpstreamModel):
    """One page of templates. Novita names the array ``template`` (singular)."""

    templates: Annotated[list[Template], _AsList] = Field(default=[], alias="template")
    total: OptionalCount = None


class RegistryAuth(UpstreamModel):
    """Stored credentials for a private container registry."""

    id: str
    name: Text = ""
    username: Text = ""
    password: Secret = None

    def image_auth(self) -> SecretStr | None:
        """``username:password`` as the create call's ``imageAuth`` expects it."""
        if self.password is None:
            return None
        return SecretStr(f"{self.username}:{self.password.get_secret_value()}")


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


class InstanceJobRef(UpstreamModel):
    """A job running on an instance (e.g. ``saveImage``)."""

    id: Text = ""
    type: Text = ""


class ConnectSSH(UpstreamModel):
    """``connectComponentSSH``. Endpoint and password rotate on every start."""

    ssh_command: OptionalText = None
    password: Secret = None
    is_running: Flag = False


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
    port_mappings: Annotated[list[PortMapping], _AsList] = []
    volume_mounts: Annotated[list[VolumeMount], _AsList] = []
    envs: Annotated[list[EnvVar], _AsList] = []
    kind: Text = ""
    billing_mode: OptionalText = None
    end_time: UnixTime = None
    spot_status: OptionalText = None
    spot_reclaim_time: UnixTime = None
    created_at: UnixTime = None
    last_started_at: UnixTime = None
    last_stopped_at: UnixTime = None
    network: InstanceNetwork | None = None
    node: Annotated[list[NodeInfo], _AsList] = []
    jobs: Annotated[list[InstanceJobRef], _AsList] = []
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
        """Host, port and user parsed from :attr:`ssh_command`."""
        return parse_ssh_command(self.ssh_command)

    @property
    def is_removed(self) -> bool:
        """True when the instance is deleted or being deleted."""
        return self.status in REMOVAL_STATUSES


class InstancePage(UpstreamModel):
    """One page of instances; ``total`` counts every match when Novita reports it."""

    instances: Annotated[list[UpstreamInstance], _AsList] = []
    total: OptionalCount = None


def _job_state(value: Any) -> Any:
    return {"state": value} if isinstance(value, str) else value


class JobState(UpstreamModel):
    """A job's state: ``pulling``, ``running``, ``fail``, ``success`` or ``break``."""

    state: Text = ""
    error: Text = ""
    error_message: Text = ""


class Job(UpstreamModel):
    """An asynchronous job (save image, migrate). Novita spells the id ``Id``."""

    id: str = Field(validation_alias=AliasChoices("Id", "id"))
    user: Text = ""
    type: Text = ""
    envs: Annotated[list[EnvVar], _AsList] = []
    state: Annotated[JobState, BeforeValidator(_job_state)] = JobState()
    log_address: OptionalText = None
    created_at: UnixTime = None
    instance_id: Text = ""


class JobPage(UpstreamModel):
    """One page of jobs."""

    jobs: Annotated[list[Job], _AsList] = []
    total: OptionalCount = None


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


class ClusterList(UpstreamModel):
    """``GET /clusters``."""

    data: Annotated[list[Cluster], _AsList] = []


class ProductList(UpstreamModel):
    """``GET /products``."""

    data: Annotated[list[Product], _AsList] = []


class RegistryAuthList(UpstreamModel):
    """``GET /repository/auths``."""

    data: Annotated[list[RegistryAuth], _AsList] = []


class TemplateEnvelope(UpstreamModel):
    """``GET /template``: ``{"template": {...}}``."""

    template: Template
