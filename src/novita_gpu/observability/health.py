"""``/health``, ``/health/live`` and ``/health/ready``.

Every figure is measured: database round trip, breaker state, job heartbeats from the lease
table, webhook backlog from the outbox, request rates from the rolling window, process memory
and CPU from psutil. ``/health`` answers 503 only when the service is unhealthy (no database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import psutil
from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import JSONResponse

from novita_gpu import __version__
from novita_gpu.autostop.costs import current_spend
from novita_gpu.context import AppContext
from novita_gpu.core.errors import ServiceUnavailable
from novita_gpu.core.openapi import error_responses
from novita_gpu.db.models import Lease
from novita_gpu.deps import ContextDep
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.reconciler.leases import LeaseRepository
from novita_gpu.webhooks.repository import Backlog, DeliveryRepository

ServiceState = Literal["up", "down", "degraded"]
router = APIRouter(tags=["health"])

# A job is stale when it has not run for this many intervals (plus slack for slow ticks).
_STALE_INTERVALS = 3
_STALE_SLACK_SECONDS = 30
# Right after start-up the loops are taking their first turn.
_STARTUP_GRACE_SECONDS = 30
# Webhooks are degraded when the oldest undelivered event is older than this.
_WEBHOOK_BACKLOG_SECONDS = 300


async def _database_up(ctx: AppContext) -> bool:
    try:
        async with ctx.db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def _upstream_state(ctx: AppContext) -> ServiceState:
    state = ctx.upstream.breaker_state
    ctx.metrics.breaker_open.set(1 if state == "open" else 0)
    return {"closed": "up", "half_open": "degraded"}.get(state, "down")  # type: ignore[return-value]


def _job_is_fresh(job: Lease, now: datetime) -> bool:
    if job.last_run_at is None or job.interval_seconds is None:
        return False
    limit = job.interval_seconds * _STALE_INTERVALS + _STALE_SLACK_SECONDS
    return (now - job.last_run_at).total_seconds() <= limit


def _periodic(ctx: AppContext, jobs: list[Lease]) -> list[Lease]:
    """Jobs expected to run on their own: with ``AUTO_STOP_ENABLED=false`` the auto-stop
    check runs only when triggered, so its row going quiet is not a stalled loop."""
    if ctx.settings.auto_stop_enabled:
        return jobs
    return [job for job in jobs if job.name != "job:auto_stop"]


def _reconciler_state(jobs: list[Lease], now: datetime, starting: bool) -> ServiceState:
    """Down when no job runs, degraded when some are stale. Right after start-up the jobs
    are still taking their first turn, so staleness is not held against them yet."""
    if starting:
        return "up"
    fresh = [job for job in jobs if _job_is_fresh(job, now)]
    if not jobs or not fresh:
        return "down"
    return "up" if len(fresh) == len(jobs) else "degraded"


def _webhook_state(backlog: Backlog) -> ServiceState:
    return "degraded" if backlog.oldest_pending_seconds > _WEBHOOK_BACKLOG_SECONDS else "up"


def _marks_report(marks: list[Lease]) -> dict[str, Any]:
    """Milestones jobs record, e.g. the last full status-sync pass and its duration."""
    return {
        mark.name.removeprefix("mark:"): {
            "at": mark.last_run_at.isoformat() if mark.last_run_at else None,
            "durationMs": mark.last_duration_ms,
        }
        for mark in marks
    }


def _jobs_report(jobs: list[Lease], now: datetime) -> dict[str, Any]:
    return {
        job.name.removeprefix("job:"): {
            "lastRunAt": job.last_run_at.isoformat() if job.last_run_at else None,
            "intervalSeconds": job.interval_seconds,
            "lastDurationMs": job.last_duration_ms,
            "lastError": job.last_error,
            "stale": not _job_is_fresh(job, now),
        }
        for job in jobs
    }


def _auto_stop_report(jobs: list[Lease]) -> dict[str, Any] | None:
    """The last auto-stop check: when, and how many instances it could not handle."""
    job = next((job for job in jobs if job.name == "job:auto_stop"), None)
    if job is None or job.last_result is None:
        return None
    return {
        "lastCheckAt": job.last_result.get("checkedAt"),
        "stopped": job.last_result.get("stopped"),
        "deleted": job.last_result.get("deleted"),
        "errors": job.last_result.get("errors"),
    }


def _system() -> dict[str, Any]:
    process = psutil.Process()
    return {
        "memory": {
            "usedMB": round(process.memory_info().rss / 1_048_576, 1),
            "totalMB": round(psutil.virtual_memory().total / 1_048_576, 1),
        },
        "cpu": {"usage": psutil.cpu_percent(interval=None)},
    }


def _overall(database: bool, services: dict[str, ServiceState]) -> str:
    if not database:
        return "unhealthy"
    return "healthy" if all(state == "up" for state in services.values()) else "degraded"


async def _stored_figures(
    ctx: AppContext, now: datetime
) -> tuple[dict[str, int], Backlog, list[Lease], list[Lease]]:
    async with ctx.db.read() as session:
        by_status = await InstanceRepository(session).count_by_status()
        backlog = await DeliveryRepository(session).backlog(now)
        leases = LeaseRepository(session)
        jobs = list(await leases.jobs())
        marks = list(await leases.marks())
    return by_status, backlog, jobs, marks


@router.get(
    "/health",
    summary="Service health with measured figures",
    responses={503: {"description": "Unhealthy: the same body, with status unhealthy"}},
)
async def get_health(ctx: ContextDep) -> JSONResponse:
    now = ctx.clock.now()
    database = await _database_up(ctx)
    by_status, backlog, jobs, marks = (
        await _stored_figures(ctx, now) if database else ({}, Backlog(0, 0.0, 0), [], [])
    )
    services: dict[str, ServiceState] = {
        "database": "up" if database else "down",
        "upstream": _upstream_state(ctx),
        "reconciler": _reconciler_state(
            _periodic(ctx, jobs),
            now,
            starting=ctx.runner is not None and ctx.uptime_seconds < _STARTUP_GRACE_SECONDS,
        ),
        "webhooks": _webhook_state(backlog),
    }
    window = ctx.metrics.window.summary()
    status = _overall(database, services)
    body = {
        "status": status,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "uptime": round(ctx.uptime_seconds, 3),
        "version": __version__,
        "mode": "emulator" if ctx.settings.emulator_mode else "live",
        "services": services,
        "performance": {
            "requestsPerMinute": round(window.requests_per_minute, 2),
            "averageResponseTime": round(window.average_ms, 3),
            "p95ResponseTime": round(window.p95_ms, 3),
            "errorRate": round(window.error_rate, 4),
        },
        "system": _system(),
        "instances": {"byStatus": by_status},
        "webhooks": {
            "pending": backlog.pending,
            "oldestPendingSeconds": round(backlog.oldest_pending_seconds, 3),
            "failed": backlog.failed,
        },
        "cost": (await current_spend(ctx)).as_json() if database else None,
        "autoStop": _auto_stop_report(jobs),
        "jobs": _jobs_report(jobs, now),
        "milestones": _marks_report(marks),
    }
    return JSONResponse(body, status_code=503 if status == "unhealthy" else 200)


@router.get("/health/live", summary="Liveness: the process answers")
async def get_live() -> dict[str, str]:
    return {"status": "alive"}


@router.get(
    "/health/ready",
    summary="Readiness: the database answers",
    responses=error_responses(ServiceUnavailable),
)
async def get_ready(ctx: ContextDep) -> dict[str, str]:
    if not await _database_up(ctx):
        raise ServiceUnavailable("database is not reachable")
    return {"status": "ready"}
