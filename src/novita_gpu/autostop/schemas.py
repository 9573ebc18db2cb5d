"""Request and response models of the auto-stop routes (camelCase on the wire)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool
from pydantic.alias_generators import to_camel

from novita_gpu.instances.schemas import Body


class TriggerIn(Body):
    """``POST /api/instances/auto-stop/trigger``: a dry run unless ``dryRun`` is ``false``."""

    dry_run: StrictBool = True


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CheckedInstanceOut(_Out):
    instance_id: str
    name: str
    action: str
    reason: str
    outcome: str
    error: str | None = None


class CheckResultOut(_Out):
    checked_at: str
    dry_run: bool
    checked: int
    eligible: int
    stopped: int
    deleted: int
    errors: int
    duration_ms: int
    instances: list[CheckedInstanceOut]


class SpendOut(_Out):
    running_usd_per_hour: float
    running_instances: int
    accrued_cost_usd: float
    saved_by_auto_stop_usd: float


class AutoStopStatsOut(_Out):
    scheduler_running: bool
    enabled: bool
    check_interval_minutes: float
    default_inactivity_threshold_minutes: float
    startup_grace_period_minutes: float
    creation_grace_period_minutes: float
    last_check_at: str | None
    next_check_at: str | None
    last_result: CheckResultOut | None
    last_error: str | None
    spend: SpendOut
