"""Request bodies and response models of the instance API.

Bodies reject unknown fields (typos fail loudly) and accept the numeric strings the original
service accepted (``gpuNum``, ``templateId``). Response models document the JSON the handlers
build with :mod:`novita_gpu.instances.views`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)
from pydantic.alias_generators import to_camel

from novita_gpu.events.types import EventType
from novita_gpu.instances.states import Status

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
REGION_PATTERN = re.compile(r"^[A-Z]{2}-[A-Z]{2,6}-\d{2}$")
REGION_CODE = r"^[A-Za-z]{2}-[A-Za-z]{2,6}-[0-9]{2}$"  # any case on the wire

BillingMode = Literal["spot", "onDemand"]
SpotRecovery = Literal["none", "migrate", "recreate"]


def _numeric_string_to_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _int_to_string(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_region(value: str) -> str:
    code = value.strip().upper()
    if not REGION_PATTERN.match(code):
        raise ValueError("must be a region code such as CN-HK-01 or US-CA-06")
    return code


IntFromString = Annotated[int, BeforeValidator(_numeric_string_to_int)]
TemplateId = Annotated[str, BeforeValidator(_int_to_string), Field(min_length=1, max_length=64)]


class Body(BaseModel):
    """camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


class EnvIn(Body):
    key: str = Field(min_length=1, max_length=511, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    value: str = Field(max_length=4095)


class AutoStopIn(Body):
    enabled: StrictBool = True
    idle_minutes: float | None = Field(default=None, gt=0, le=10_080)


class AutoDeleteIn(Body):
    after_stopped_minutes: float | None = Field(default=None, gt=0, le=525_600)


class HealthCheckIn(Body):
    enabled: StrictBool = True
    target_port: int | None = Field(default=None, ge=1, le=65535)
    timeout_ms: int | None = Field(default=None, ge=100, le=300_000)
    retry_attempts: int | None = Field(default=None, ge=0, le=100)
    retry_delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    max_wait_time_ms: int | None = Field(default=None, ge=1_000, le=86_400_000)


class CreateInstanceIn(Body):
    """``POST /api/instances``."""

    name: str = Field(pattern=NAME_PATTERN)
    product_name: str = Field(min_length=1, max_length=200)
    template_id: TemplateId
    gpu_num: IntFromString = Field(default=1, ge=1, le=8)
    rootfs_size: IntFromString = Field(default=60, ge=10, le=6144)
    region: Annotated[str, Field(pattern=REGION_CODE)] | None = None
    regions: list[Annotated[str, Field(pattern=REGION_CODE)]] | None = Field(
        default=None, min_length=1, max_length=32
    )
    billing_mode: BillingMode = "spot"
    webhook_url: AnyHttpUrl | None = None
    max_price_per_hour: float | None = Field(default=None, gt=0, le=10_000)
    auto_stop: AutoStopIn | None = None
    auto_delete: AutoDeleteIn | None = None
    max_runtime_minutes: float | None = Field(default=None, gt=0, le=525_600)
    spot_recovery: SpotRecovery | None = None
    envs: list[EnvIn] | None = Field(default=None, max_length=100)
    health_check: HealthCheckIn | None = None

    @field_validator("region")
    @classmethod
    def _region_code(cls, value: str | None) -> str | None:
        return None if value is None else _check_region(value)

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(_check_region(v) for v in value))


class ActionIn(Body):
    """Optional body of stop and delete: where this operation's events go."""

    webhook_url: AnyHttpUrl | None = Field(
        default=None,
        description="From now on, this instance's events (this operation's first) go here.",
    )


class StartIn(ActionIn):
    """Optional body of a start: the original service's readiness-check fields."""

    health_check_config: HealthCheckIn | None = Field(
        default=None, description="Readiness-check settings for this start, over the instance's."
    )
    target_port: int | None = Field(
        default=None, ge=1, le=65535, description="Probe only this port (wins over the config's)."
    )

    def health_check_overrides(self) -> dict[str, Any]:
        """The readiness-check settings this start asks for, in the stored camelCase shape."""
        given = self.health_check_config
        overrides = {}
        if given is not None:
            overrides = given.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
        if self.target_port is not None:
            overrides["targetPort"] = self.target_port
        return overrides


class InstanceNameIn(Body):
    """Names the instance of a by-name request."""

    instance_name: str = Field(pattern=NAME_PATTERN)


class StartByNameIn(StartIn, InstanceNameIn):
    """``POST /api/instances/start``."""


class ActionByNameIn(ActionIn, InstanceNameIn):
    """``POST /api/instances/stop`` and ``POST /api/instances/delete``."""


class LastUsedIn(Body):
    """``PUT .../last-used``; ``lastUsedAt`` defaults to now."""

    last_used_at: str | None = Field(
        default=None,
        description="When it was last used (ISO 8601 with a timezone); defaults to now",
        json_schema_extra={"format": "date-time"},
    )


class LastUsedByNameIn(LastUsedIn):
    instance_name: str = Field(pattern=NAME_PATTERN)


class AdoptIn(Body):
    """``POST /api/instances/adopt``: an upstream-only instance by its Novita id."""

    novita_instance_id: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    webhook_url: AnyHttpUrl | None = None
    auto_stop: AutoStopIn | None = None
    auto_delete: AutoDeleteIn | None = None
    max_runtime_minutes: float | None = Field(default=None, gt=0, le=525_600)
    spot_recovery: SpotRecovery | None = None
    health_check: HealthCheckIn | None = None


class StopAllIn(Body):
    dry_run: StrictBool = False


# Response models: the documented shape of what views.py builds. Handlers return the views
# directly (no validation on the hot path); tests/contract checks that views and models agree.

Source = Literal["managed", "adopted", "upstream"]
HealthStatus = Literal[
    "pending", "checking", "skipped", "healthy", "partial", "unhealthy", "failed"
]


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PortMappingOut(Out):
    port: int
    type: str = Field(description="http, https, tcp or udp")
    endpoint: str | None = None


class ConnectionDetailsOut(Out):
    ssh: str | None = Field(default=None, description="An ssh command line")
    ssh_password: str | None = Field(
        default=None, description="Only with ?includeSecrets=true (fetched live)"
    )
    ssh_host_key: str | None = Field(
        default=None, description="The SSH host key, when upstream publishes one"
    )
    jupyter: str | None = None
    web_terminal: str | None = None
    endpoints: dict[str, str] = Field(default={}, description="Public URL by port")


class ProbeOut(Out):
    port: int
    endpoint: str | None = None
    status: Literal["healthy", "unhealthy"]
    http_status: int | None = None
    response_time_ms: float | None = None
    error: str | None = None


class HealthCheckOut(Out):
    status: HealthStatus
    checked_at: str | None = None
    started_at: str | None = Field(default=None, description="When this readiness check began")
    rounds: int | None = Field(default=None, description="Probing rounds so far")
    endpoints: list[ProbeOut] = []


class AutoStopOut(Out):
    enabled: bool
    idle_minutes: float | None


class AutoDeleteOut(Out):
    after_stopped_minutes: float | None


class SpotOut(Out):
    status: str | None = Field(description="Novita's spot status (e.g. notified, reclaiming)")
    reclaim_time: str | None
    recovery: str | None = Field(
        description="The step of a recovery from a reclaim in progress (e.g. migrating), else null"
    )
    recoveries: int = Field(description="Recoveries from reclaims so far")
    last_recovery: dict[str, Any] | None = Field(
        description="How the last recovery went (mode, outcome, times)"
    )


class InstanceOut(Out):
    """An instance as every route, the event stream and webhooks show it."""

    id: str
    name: str
    status: Status
    upstream_status: str | None = Field(description="Novita's own status, unchanged")
    novita_instance_id: str | None
    product_id: str | None
    product_name: str
    region: str | None
    cluster_id: str | None
    gpu_num: int
    rootfs_size: int
    billing_mode: BillingMode
    template_id: str | None
    image_url: str | None
    price_per_hour: float | None = Field(description="USD per hour for the whole instance")
    port_mappings: list[PortMappingOut]
    connection_details: ConnectionDetailsOut
    health_check: HealthCheckOut
    auto_stop: AutoStopOut
    auto_delete: AutoDeleteOut
    max_runtime_minutes: float | None
    spot_recovery: SpotRecovery
    spot: SpotOut
    webhook_url: str | None = Field(description="Without its query string")
    last_used_at: str | None
    created_at: str
    started_at: str | None
    ready_at: str | None
    stopped_at: str | None
    deleted_at: str | None
    last_error: str | None
    runtime_seconds: float
    estimated_cost_usd: float
    source: Source


class UpstreamOnlyOut(Out):
    """An instance Novita has that this service does not manage (``source: upstream``)."""

    id: None
    name: str
    status: Status
    upstream_status: str
    novita_instance_id: str
    product_id: str | None
    product_name: str | None
    region: str | None
    cluster_id: str | None
    gpu_num: int
    rootfs_size: int
    billing_mode: str
    image_url: str | None
    port_mappings: list[PortMappingOut]
    created_at: str | None
    source: Literal["upstream"]


class CreateInstanceOut(Out):
    instance_id: str
    novita_instance_id: str | None
    status: Status
    message: str
    product_id: str | None
    product_name: str
    region: str | None
    spot_price: float | None
    price: float | None
    estimated_ready_time: str | None
    instance: InstanceOut


class InstanceListOut(Out):
    instances: list[InstanceOut]
    total: int
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next page")


class ComprehensiveOut(Out):
    instances: list[InstanceOut | UpstreamOnlyOut]
    total: int
    managed: int
    upstream_only: int


class ActionOut(Out):
    """Start, stop and delete (202): accepted; ``instance`` as it is now."""

    instance_id: str
    status: Status
    message: str
    instance: InstanceOut


class TouchOut(Out):
    instance_id: str
    last_used_at: str | None
    message: str
    instance: InstanceOut


class StopAllItemOut(Out):
    instance_id: str
    name: str
    status: Status | None = None
    action: Literal["would stop"] | None = Field(default=None, description="On a dry run")
    error: str | None = None
    code: str | None = Field(default=None, description="The error code when this stop failed")


class StopAllOut(Out):
    dry_run: bool
    total: int
    stopped: int
    failed: int
    results: list[StopAllItemOut]


class EventOut(Out):
    id: str
    type: EventType
    instance_id: str
    status: Status
    timestamp: str
    data: dict[str, Any]


class EventListOut(Out):
    events: list[EventOut]
    total: int
