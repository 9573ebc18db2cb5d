"""The public instance object (SPEC 2.2), built from a row.

Used by API responses, list items, webhook payloads and the event stream, so all of them show
the same thing. Secrets are left out: registry credentials are never stored, the SSH password
only appears when the caller asked for it (and is fetched live), and a webhook URL's query
string (often a token) is cut off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from novita_gpu.db.models import Instance
from novita_gpu.instances.states import ACCRUING, Status

PRICE_UNITS_PER_USD = 100_000


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a ``Z`` suffix, millisecond precision (as JavaScript prints dates)."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def usd(units: int | None) -> float | None:
    """Novita price units (1/100000 USD) as dollars."""
    return None if units is None else units / PRICE_UNITS_PER_USD


def redact_url(url: str | None) -> str | None:
    """``url`` without credentials, query string or fragment."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def runtime_seconds(instance: Instance, now: datetime) -> float:
    """Accrued running time plus the current running stretch, if any."""
    extra = 0.0
    if instance.running_since is not None and instance.status in ACCRUING:
        extra = max(0.0, (now - instance.running_since).total_seconds())
    return instance.runtime_seconds + extra


def estimated_cost_usd(instance: Instance, now: datetime) -> float:
    price = usd(instance.price_units) or 0.0
    return round(runtime_seconds(instance, now) / 3600 * price, 6)


def connection_details(instance: Instance, ssh_password: str | None = None) -> dict[str, Any]:
    stored = instance.connection or {}
    details: dict[str, Any] = {
        "ssh": stored.get("ssh"),
        "jupyter": stored.get("jupyter"),
        "webTerminal": stored.get("webTerminal"),
        "endpoints": {
            str(mapping["port"]): mapping.get("endpoint")
            for mapping in instance.port_mappings or []
            if mapping.get("endpoint")
        },
    }
    if ssh_password is not None:
        details["sshPassword"] = ssh_password
    return details


def _health_check(instance: Instance) -> dict[str, Any]:
    result = dict(instance.health_check or {})
    result.setdefault("status", "pending")
    result.setdefault("checkedAt", None)
    result.setdefault("endpoints", [])
    return result


def instance_view(
    instance: Instance, now: datetime, *, ssh_password: str | None = None, source: str = "managed"
) -> dict[str, Any]:
    """The instance object of SPEC 2.2 (camelCase, JSON-ready)."""
    return {
        "id": instance.id,
        "name": instance.name,
        "status": instance.status,
        "upstreamStatus": instance.upstream_status,
        "novitaInstanceId": instance.novita_instance_id,
        "productId": instance.product_id,
        "productName": instance.product_name,
        "region": instance.region,
        "clusterId": instance.cluster_id,
        "gpuNum": instance.gpu_num,
        "rootfsSize": instance.rootfs_size,
        "billingMode": instance.billing_mode,
        "templateId": instance.template_id,
        "imageUrl": instance.image_url,
        "pricePerHour": usd(instance.price_units),
        "portMappings": list(instance.port_mappings or []),
        "connectionDetails": connection_details(instance, ssh_password),
        "healthCheck": _health_check(instance),
        "autoStop": {
            "enabled": instance.auto_stop_enabled,
            "idleMinutes": instance.auto_stop_idle_minutes,
        },
        "autoDelete": {"afterStoppedMinutes": instance.auto_delete_after_stopped_minutes},
        "maxRuntimeMinutes": instance.max_runtime_minutes,
        "spotRecovery": instance.spot_recovery,
        "spot": {"status": instance.spot_status, "reclaimTime": iso(instance.spot_reclaim_time)},
        "webhookUrl": redact_url(instance.webhook_url),
        "lastUsedAt": iso(instance.last_used_at),
        "createdAt": iso(instance.created_at),
        "startedAt": iso(instance.started_at),
        "readyAt": iso(instance.ready_at),
        "stoppedAt": iso(instance.stopped_at),
        "deletedAt": iso(instance.deleted_at),
        "lastError": instance.last_error,
        "runtimeSeconds": round(runtime_seconds(instance, now), 3),
        "estimatedCostUsd": estimated_cost_usd(instance, now),
        "source": source if instance.source == "managed" else instance.source,
    }


def is_live(instance: Instance) -> bool:
    """Not deleted (a tombstone keeps its row but is no longer live)."""
    return instance.deleted_at is None and instance.status != Status.DELETED
