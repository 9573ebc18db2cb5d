"""Request and response bodies of ``/api/instances/migration/*``."""

from __future__ import annotations

from typing import Any

from pydantic import StrictBool

from novita_gpu.instances.schemas import Body, Out


class CheckFailedIn(Body):
    """``immediate``: run the recovery pass now and answer with its result (else 202 at once)."""

    immediate: StrictBool = False


class RecoveryRunOut(Out):
    """One recovery pass (``wouldStart`` instead of ``started`` in a dry run)."""

    enabled: bool
    dry_run: bool
    checked: int
    started: list[dict[str, Any]] | None = None
    would_start: list[dict[str, Any]] | None = None
    skipped: list[dict[str, Any]]
    errors: list[dict[str, Any]]


class SchedulerStatusOut(Out):
    """``GET /api/instances/migration/scheduler/status``."""

    enabled: bool
    dry_run: bool
    scheduler_running: bool
    interval_minutes: float
    last_run_at: str | None
    next_run_at: str | None
    last_duration_ms: int | None
    last_error: str | None
    run_count: int
    recoveries: dict[str, int]
    totals: dict[str, int]


class RecoveryStartedOut(Out):
    """A recovery pass was started in the background (``check-failed`` without ``immediate``)."""

    message: str
    immediate: bool


class TriggeredOut(Out):
    """A recovery pass was started in the background."""

    triggered: bool
    message: str
