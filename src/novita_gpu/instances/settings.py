"""Per-instance behaviour settings: the request's values over the server's defaults."""

from __future__ import annotations

from typing import Any

from novita_gpu.core.config import Settings
from novita_gpu.instances.schemas import AutoDeleteIn, AutoStopIn


def instance_settings(settings: Settings, body: Any) -> dict[str, Any]:
    """Row fields for auto-stop, auto-delete, runtime cap and spot recovery."""
    auto_stop: AutoStopIn | None = body.auto_stop
    auto_delete: AutoDeleteIn | None = body.auto_delete
    billing_mode = getattr(body, "billing_mode", "onDemand")
    default_recovery = "migrate" if billing_mode == "spot" else "none"
    return {
        # On unless asked otherwise: AUTO_STOP_ENABLED switches the periodic check, not the
        # instance's own setting (a triggered check still applies it).
        "auto_stop_enabled": True if auto_stop is None else auto_stop.enabled,
        "auto_stop_idle_minutes": (auto_stop.idle_minutes if auto_stop else None)
        or settings.auto_stop_idle_minutes,
        "auto_delete_after_stopped_minutes": auto_delete.after_stopped_minutes
        if auto_delete
        else None,
        "max_runtime_minutes": body.max_runtime_minutes,
        "spot_recovery": body.spot_recovery or default_recovery,
    }
