"""Request bodies and response models of the instance API (SPEC 2.2).

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
    field_validator,
)
from pydantic.alias_generators import to_camel

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
REGION_PATTERN = re.compile(r"^[A-Z]{2}-[A-Z]{2,6}-\d{2}$")

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
    enabled: bool = True
    idle_minutes: float | None = Field(default=None, gt=0, le=10_080)


class AutoDeleteIn(Body):
    after_stopped_minutes: float | None = Field(default=None, gt=0, le=525_600)


class HealthCheckIn(Body):
    enabled: bool = True
    target_port: int | None = Field(default=None, ge=1, le=65535)
    timeout_ms: int | None = Field(default=None, ge=100, le=120_000)
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
    region: str | None = None
    regions: list[str] | None = Field(default=None, min_length=1, max_length=32)
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


class InstanceNameIn(Body):
    """Body of the by-name actions (``POST /api/instances/start`` etc.)."""

    instance_name: str = Field(pattern=NAME_PATTERN)


class LastUsedIn(Body):
    """``PUT .../last-used``; ``lastUsedAt`` defaults to now."""

    last_used_at: Any = None


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
    dry_run: bool = False


# Response models (documentation of what views.py builds)


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PortMappingOut(Out):
    port: int
    type: str
    endpoint: str | None = None


class ConnectionDetailsOut(Out):
    ssh: str | None = None
    ssh_password: str | None = None
    ssh_host_key: str | None = None
    jupyter: str | None = None
    web_terminal: str | None = None
    endpoints: dict[str, str] = {}


class ProbeOut(Out):
    port: int
    endpoint: str | None = None
    status: str
    http_status: int | None = None
    response_time_ms: float | None = None
    error: str | None = None


class HealthCheckOut(Out):
    status: str
    checked_at: str | None = None
    endpoints: list[ProbeOut] = []


class InstanceOut(Out):
    id: str
    name: str
    status: str
    upstream_status: str | None
    novita_instance_id: str | None
    product_id: str | None
    product_name: str
    region: str | None
    cluster_id: str | None
    gpu_num: int
    rootfs_size: int
    billing_mode: str
    template_id: str | None
    image_url: str | None
    price_per_hour: float | None
    port_mappings: list[PortMappingOut]
    connection_details: ConnectionDetailsOut
    health_check: HealthCheckOut
    auto_stop: dict[str, Any]
    auto_delete: dict[str, Any]
    max_runtime_minutes: float | None
    spot_recovery: str
    spot: dict[str, Any]
    webhook_url: str | None
    last_used_at: str | None
    created_at: str
    started_at: str | None
    ready_at: str | None
    stopped_at: str | None
    deleted_at: str | None
    last_error: str | None
    runtime_seconds: float
    estimated_cost_usd: float
    source: str


class CreateInstanceOut(Out):
    instance_id: str
    novita_instance_id: str | None
    status: str
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
    next_cursor: str | None = None


class ActionOut(Out):
    instance_id: str
    status: str
    message: str
    instance: InstanceOut


class EventOut(Out):
    id: str
    type: str
    instance_id: str
    status: str
    timestamp: str
    data: dict[str, Any]


class EventListOut(Out):
    events: list[EventOut]
    total: int
