"""The public instance object, built from a row.

Used by API responses, list items, webhook payloads and the event stream, so all of them show
the same thing. Secrets are left out: registry credentials are never stored, the SSH password
only appears when the caller asked for it (and is fetched live), and a webhook URL's query
string (often a token) is cut off.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Row

from novita_gpu.db.models import Instance
from novita_gpu.instances.states import ACCRUING

PRICE_UNITS_PER_USD = 100_000


class InstanceRecord(Protocol):
    """What the view reads: an ORM :class:`Instance` or a row of :data:`VIEW_COLUMNS`."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def upstream_status(self) -> str | None: ...
    @property
    def novita_instance_id(self) -> str | None: ...
    @property
    def product_id(self) -> str | None: ...
    @property
    def product_name(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def cluster_id(self) -> str | None: ...
    @property
    def gpu_num(self) -> int: ...
    @property
    def rootfs_size(self) -> int: ...
    @property
    def billing_mode(self) -> str: ...
    @property
    def template_id(self) -> str | None: ...
    @property
    def image_url(self) -> str | None: ...
    @property
    def price_units(self) -> int | None: ...
    @property
    def port_mappings(self) -> list[Any]: ...
    @property
    def connection(self) -> dict[str, Any]: ...
    @property
    def health_check(self) -> dict[str, Any]: ...
    @property
    def auto_stop_enabled(self) -> bool: ...
    @property
    def auto_stop_idle_minutes(self) -> float | None: ...
    @property
    def auto_delete_after_stopped_minutes(self) -> float | None: ...
    @property
    def max_runtime_minutes(self) -> float | None: ...
    @property
    def spot_recovery(self) -> str: ...
    @property
    def spot_status(self) -> str | None: ...
    @property
    def spot_reclaim_time(self) -> datetime | None: ...
    @property
    def spot_recoveries(self) -> int: ...
    @property
    def last_recovery(self) -> dict[str, Any] | None: ...
    @property
    def recovery_phase(self) -> str | None: ...
    @property
    def webhook_url(self) -> str | None: ...
    @property
    def last_used_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def ready_at(self) -> datetime | None: ...
    @property
    def stopped_at(self) -> datetime | None: ...
    @property
    def deleted_at(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def running_since(self) -> datetime | None: ...
    @property
    def runtime_seconds(self) -> float: ...
    @property
    def source(self) -> str: ...


_C = Instance
#: The columns :func:`instance_view` needs, for Core selects on the hot read paths.
VIEW_COLUMNS = (
    _C.id, _C.name, _C.status, _C.upstream_status, _C.novita_instance_id, _C.product_id,
    _C.product_name, _C.region, _C.cluster_id, _C.gpu_num, _C.rootfs_size, _C.billing_mode,
    _C.template_id, _C.image_url, _C.price_units, _C.port_mappings, _C.connection,
    _C.health_check, _C.auto_stop_enabled, _C.auto_stop_idle_minutes,
    _C.auto_delete_after_stopped_minutes, _C.max_runtime_minutes, _C.spot_recovery,
    _C.spot_status, _C.spot_reclaim_time, _C.webhook_url, _C.last_used_at, _C.created_at,
    _C.started_at, _C.ready_at, _C.stopped_at, _C.deleted_at, _C.last_error, _C.running_since,
    _C.runtime_seconds, _C.source, _C.spot_recoveries, _C.last_recovery, _C.recovery_phase,
)  # fmt: skip


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a ``Z`` suffix, millisecond precision (as JavaScript prints dates)."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def usd(units: int | None) -> float | None:
    """Novita price units (1/100000 USD) as dollars."""
    return None if units is None else units / PRICE_UNITS_PER_USD


def minutes(value: float | None) -> float | int | None:
    """A duration in minutes as stored; whole numbers render as integers (``10``, not ``10.0``)."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def redact_url(url: str | None) -> str | None:
    """``url`` without credentials, query string or fragment."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _runtime(status: str, running_since: datetime | None, accrued: float, now: datetime) -> float:
    extra = 0.0
    if running_since is not None and status in ACCRUING:
        extra = max(0.0, (now - running_since).total_seconds())
    return accrued + extra


def runtime_seconds(instance: InstanceRecord, now: datetime) -> float:
    """Accrued running time plus the current running stretch, if any."""
    return _runtime(instance.status, instance.running_since, instance.runtime_seconds, now)


def estimated_cost_usd(instance: InstanceRecord, now: datetime) -> float:
    price = usd(instance.price_units) or 0.0
    return round(runtime_seconds(instance, now) / 3600 * price, 6)


def _connection(
    stored: dict[str, Any] | None, mappings: list[Any] | None, ssh_password: str | None
) -> dict[str, Any]:
    stored = stored or {}
    details: dict[str, Any] = {
        "ssh": stored.get("ssh"),
        "sshHostKey": stored.get("sshHostKey"),
        "jupyter": stored.get("jupyter"),
        "webTerminal": stored.get("webTerminal"),
        "endpoints": {
            str(mapping["port"]): mapping["endpoint"]
            for mapping in mappings or []
            if mapping.get("endpoint")
        },
    }
    if ssh_password is not None:
        details["sshPassword"] = ssh_password
    return details


def connection_details(instance: InstanceRecord, ssh_password: str | None = None) -> dict[str, Any]:
    return _connection(instance.connection, instance.port_mappings, ssh_password)


def _health_check(stored: dict[str, Any] | None) -> dict[str, Any]:
    return {"status": "pending", "checkedAt": None, "endpoints": [], **(stored or {})}


def _spot(f: Mapping[str, Any]) -> dict[str, Any]:
    """Upstream's spot sub-state, and the recoveries of this instance (``recovery``: the
    step of one in progress)."""
    return {
        "status": f["spot_status"],
        "reclaimTime": iso(f["spot_reclaim_time"]),
        "recovery": f["recovery_phase"],
        "recoveries": f["spot_recoveries"] or 0,
        "lastRecovery": f["last_recovery"],
    }


_VIEW_KEYS = tuple(column.key for column in VIEW_COLUMNS)


def _fields(record: InstanceRecord | Row[Any]) -> Mapping[str, Any]:
    if isinstance(record, Row):
        return cast(Mapping[str, Any], record._mapping)
    return {key: getattr(record, key) for key in _VIEW_KEYS}


def instance_view(
    record: InstanceRecord | Row[Any],
    now: datetime,
    *,
    ssh_password: str | None = None,
    source: str = "managed",
) -> dict[str, Any]:
    """The public instance object (camelCase, JSON-ready) from a row or an ORM object.

    Rows of :data:`VIEW_COLUMNS` are read through their mapping: attribute access on a
    SQLAlchemy row costs several times more, and list pages build a hundred views at once.
    """
    f = _fields(record)
    price_units = f["price_units"]
    runtime = _runtime(f["status"], f["running_since"], f["runtime_seconds"], now)
    price = usd(price_units) or 0.0
    return {
        "id": f["id"],
        "name": f["name"],
        "status": f["status"],
        "upstreamStatus": f["upstream_status"],
        "novitaInstanceId": f["novita_instance_id"],
        "productId": f["product_id"],
        "productName": f["product_name"],
        "region": f["region"],
        "clusterId": f["cluster_id"],
        "gpuNum": f["gpu_num"],
        "rootfsSize": f["rootfs_size"],
        "billingMode": f["billing_mode"],
        "templateId": f["template_id"],
        "imageUrl": f["image_url"],
        "pricePerHour": usd(price_units),
        "portMappings": list(f["port_mappings"] or []),
        "connectionDetails": _connection(f["connection"], f["port_mappings"], ssh_password),
        "healthCheck": _health_check(f["health_check"]),
        "autoStop": {
            "enabled": f["auto_stop_enabled"],
            "idleMinutes": minutes(f["auto_stop_idle_minutes"]),
        },
        "autoDelete": {"afterStoppedMinutes": minutes(f["auto_delete_after_stopped_minutes"])},
        "maxRuntimeMinutes": minutes(f["max_runtime_minutes"]),
        "spotRecovery": f["spot_recovery"],
        "spot": _spot(f),
        "webhookUrl": redact_url(f["webhook_url"]),
        "lastUsedAt": iso(f["last_used_at"]),
        "createdAt": iso(f["created_at"]),
        "startedAt": iso(f["started_at"]),
        "readyAt": iso(f["ready_at"]),
        "stoppedAt": iso(f["stopped_at"]),
        "deletedAt": iso(f["deleted_at"]),
        "lastError": f["last_error"],
        "runtimeSeconds": round(runtime, 3),
        "estimatedCostUsd": round(runtime / 3600 * price, 6),
        "source": source if f["source"] == "managed" else f["source"],
    }
