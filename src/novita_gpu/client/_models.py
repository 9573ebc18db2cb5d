"""Typed views of the server's JSON.

Field names are snake_case in Python and camelCase on the wire. Every model is tolerant:
unknown fields are kept (``model_extra``) rather than rejected, and almost every field has a
default, so a newer server never breaks an older SDK.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

#: Statuses from which an instance will not reach ``ready`` on its own.
GIVE_UP_STATUSES = frozenset({"failed", "terminated", "deleted"})


class Model(BaseModel):
    """camelCase aliases, snake_case names, extra fields allowed."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True
    )


class PortMapping(Model):
    port: int
    type: str = "http"
    endpoint: str | None = None


class ConnectionDetails(Model):
    """How to reach an instance. ``ssh_password`` only with ``include_secrets=True``;
    ``ssh_host_key`` only when upstream publishes the host key (the emulator does)."""

    ssh: str | None = None
    ssh_password: str | None = None
    ssh_host_key: str | None = None
    jupyter: str | None = None
    web_terminal: str | None = None
    endpoints: dict[str, str | None] = {}


class ProbeResult(Model):
    port: int
    endpoint: str | None = None
    status: str
    http_status: int | None = None
    response_time_ms: float | None = None
    error: str | None = None


class HealthCheck(Model):
    status: str = "pending"
    checked_at: datetime | None = None
    started_at: datetime | None = None
    rounds: int | None = None
    endpoints: list[ProbeResult] = []


class AutoStop(Model):
    enabled: bool = False
    idle_minutes: float | None = None


class AutoDelete(Model):
    after_stopped_minutes: float | None = None


class Spot(Model):
    """Upstream's spot sub-state and this instance's recoveries from reclaims."""

    status: str | None = None
    reclaim_time: datetime | None = None
    recovery: str | None = None
    """The step of a recovery in progress (``migrating``, ``recreating``...), else None."""
    recoveries: int = 0
    last_recovery: dict[str, Any] | None = None


class Instance(Model):
    """One managed instance."""

    id: str
    name: str
    status: str
    upstream_status: str | None = None
    novita_instance_id: str | None = None
    product_id: str | None = None
    product_name: str | None = None
    region: str | None = None
    cluster_id: str | None = None
    gpu_num: int | None = None
    rootfs_size: int | None = None
    billing_mode: str | None = None
    template_id: str | None = None
    image_url: str | None = None
    price_per_hour: float | None = None
    port_mappings: list[PortMapping] = []
    connection_details: ConnectionDetails = ConnectionDetails()
    health_check: HealthCheck = HealthCheck()
    auto_stop: AutoStop = AutoStop()
    auto_delete: AutoDelete = AutoDelete()
    max_runtime_minutes: float | None = None
    spot_recovery: str | None = None
    spot: Spot = Spot()
    webhook_url: str | None = None
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    ready_at: datetime | None = None
    stopped_at: datetime | None = None
    deleted_at: datetime | None = None
    last_error: str | None = None
    runtime_seconds: float = 0.0
    estimated_cost_usd: float = 0.0
    source: str = "managed"

    @property
    def is_ready(self) -> bool:
        return self.status == "ready"

    @property
    def has_given_up(self) -> bool:
        """True when the instance is ``failed``, ``terminated`` or ``deleted``."""
        return self.status in GIVE_UP_STATUSES


class CreateResult(Model):
    """``POST /api/instances`` (201): the original service's fields plus the instance."""

    instance_id: str
    novita_instance_id: str | None = None
    status: str
    message: str | None = None
    product_id: str | None = None
    product_name: str | None = None
    region: str | None = None
    spot_price: float | None = None
    price: float | None = None
    estimated_ready_time: datetime | None = None
    instance: Instance


class ActionResult(Model):
    """Start, stop and delete (202): the request was accepted; ``instance`` as it is now."""

    instance_id: str
    status: str
    message: str | None = None
    instance: Instance


class HeartbeatResult(Model):
    instance_id: str
    last_used_at: datetime | None = None
    message: str | None = None
    instance: Instance


class InstancePage(Model):
    """One page of ``GET /api/instances``, newest first."""

    instances: list[Instance]
    total: int
    next_cursor: str | None = None


class Event(Model):
    """A state change, from the history or the live stream.

    The stream sends the webhook payload, which names the type ``event``; the history names
    it ``type``. Both land in :attr:`type`. ``instance`` is present in stream events.
    """

    id: str
    type: str = Field(validation_alias=AliasChoices("type", "event"))
    instance_id: str
    status: str | None = None
    timestamp: datetime | None = None
    data: dict[str, Any] = {}
    instance: Instance | None = None
    error: str | None = None


class EventList(Model):
    events: list[Event]
    total: int = 0


class ProductOffer(Model):
    """An offer of a product in a region; prices in USD per GPU-hour."""

    product_id: str
    product_name: str
    region: str | None = None
    cluster_id: str | None = None
    billing_mode: str | None = None
    price_per_hour: float | None = None
    spot_price: float | None = None
    on_demand_price: float | None = None
    available: bool = False
    reason: str | None = None
    inventory_state: str | None = None
    cpu_per_gpu: int | None = None
    memory_per_gpu: int | None = None
    min_rootfs: int | None = None
    max_rootfs: int | None = None


class ProductList(Model):
    products: list[ProductOffer]
    total: int = 0


class Health(Model):
    """``GET /health``; the detailed sections stay plain dicts (they grow often)."""

    status: str
    timestamp: datetime | None = None
    uptime: float | None = None
    version: str | None = None
    mode: str | None = None
    services: dict[str, Any] = {}


# Cost control


class CheckedInstance(Model):
    """One instance a cost-control rule applied to in a check."""

    instance_id: str
    name: str | None = None
    action: str
    reason: str
    outcome: str
    error: str | None = None


class AutoStopCheck(Model):
    """The result of one auto-stop check (``lastResult``, or a trigger's answer)."""

    checked_at: datetime | None = None
    dry_run: bool = True
    checked: int = 0
    eligible: int = 0
    stopped: int = 0
    deleted: int = 0
    errors: int = 0
    duration_ms: int | None = None
    instances: list[CheckedInstance] = []


class Spend(Model):
    running_usd_per_hour: float = 0.0
    running_instances: int = 0
    accrued_cost_usd: float = 0.0
    saved_by_auto_stop_usd: float = 0.0


class AutoStopStats(Model):
    """``GET /api/instances/auto-stop/stats``."""

    scheduler_running: bool = False
    enabled: bool | None = None
    check_interval_minutes: float | None = None
    default_inactivity_threshold_minutes: float | None = None
    startup_grace_period_minutes: float | None = None
    creation_grace_period_minutes: float | None = None
    last_check_at: datetime | None = None
    next_check_at: datetime | None = None
    last_result: AutoStopCheck | None = None
    last_error: str | None = None
    spend: Spend | None = None


class SyncChange(Model):
    instance_id: str
    name: str | None = None
    from_status: str | None = Field(default=None, alias="from")
    to_status: str | None = Field(default=None, alias="to")
    upstream_status: str | None = None


class SyncResult(Model):
    """``POST /api/instances/sync``: what the pass changed (or would change)."""

    dry_run: bool = False
    checked: int = 0
    upstream_instances: int = 0
    changed: list[SyncChange] = []
    missing: list[str] = []
    duration_ms: int | None = None
