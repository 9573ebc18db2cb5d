"""The auto-stop job, its stats, and on-demand checks.

The periodic check is one leased reconciler job (``auto_stop``), so with several replicas it
runs once per ``AUTO_STOP_CHECK_INTERVAL_MINUTES``. Its last result is stored on the job's lease
row, so every replica's stats show the same thing. A triggered real check takes the same lease
(409 ``OPERATION_IN_PROGRESS`` while another check runs); a dry run takes nothing and writes
nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from novita_gpu.autostop.check import CheckResult, run_check
from novita_gpu.autostop.costs import current_spend
from novita_gpu.autostop.repository import CheckResultRepository
from novita_gpu.context import AppContext
from novita_gpu.core.config import Settings
from novita_gpu.core.errors import OperationInProgress
from novita_gpu.instances.views import iso, minutes
from novita_gpu.reconciler.leases import JOB_PREFIX, LeaseRepository
from novita_gpu.reconciler.runner import Job, JobContext, new_owner_id

JOB_NAME = "auto_stop"
LEASE_NAME = JOB_PREFIX + JOB_NAME


def check_interval_seconds(ctx: AppContext) -> float:
    """Seconds between periodic checks (``AUTO_STOP_CHECK_INTERVAL_MINUTES``)."""
    return ctx.settings.auto_stop_check_interval_minutes * 60


async def auto_stop_job(job: JobContext) -> None:
    """The periodic check: run it and store its result for the stats."""
    result = await run_check(job.ctx, dry_run=False)
    await _save(job.ctx, result)


def auto_stop_jobs(settings: Settings) -> list[Job]:
    """The job to schedule: none when ``AUTO_STOP_ENABLED=false`` (triggers still work)."""
    if not settings.auto_stop_enabled:
        return []
    return [Job(JOB_NAME, settings.auto_stop_check_interval_minutes * 60, auto_stop_job)]


async def _save(ctx: AppContext, result: CheckResult) -> None:
    async with ctx.db.write() as session, session.begin():
        await CheckResultRepository(session).save(LEASE_NAME, result.as_json())


@asynccontextmanager
async def _job_lease(ctx: AppContext) -> AsyncIterator[None]:
    """Hold the check's lease for an on-demand run (409 if a check is running now)."""
    owner, now = new_owner_id(), ctx.clock.now()
    interval = check_interval_seconds(ctx)
    hold = max(timedelta(seconds=60), timedelta(seconds=interval * 3))
    async with ctx.db.write() as session, session.begin():
        leases = LeaseRepository(session)
        await leases.ensure(LEASE_NAME, interval)
        claimed = await leases.claim(LEASE_NAME, owner, now, interval, hold, force=True)
    if not claimed:
        raise OperationInProgress("An auto-stop check is running right now; try again shortly")
    error: str | None = None
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        async with ctx.db.write() as session, session.begin():
            await LeaseRepository(session).finish(
                LEASE_NAME, owner, ctx.clock.now(), elapsed_ms, error
            )


async def trigger(ctx: AppContext, *, dry_run: bool) -> dict[str, Any]:
    """Run a check now and return its result (a dry run changes nothing at all)."""
    if dry_run:
        return (await run_check(ctx, dry_run=True)).as_json()
    async with _job_lease(ctx):
        result = await run_check(ctx, dry_run=False)
        await _save(ctx, result)
    return result.as_json()


def scheduler_running(ctx: AppContext) -> bool:
    """True when this process runs the periodic check."""
    return ctx.settings.auto_stop_enabled and ctx.runner is not None


async def stats(ctx: AppContext) -> dict[str, Any]:
    """``GET /api/instances/auto-stop/stats``: settings, last and next check, last result."""
    settings = ctx.settings
    async with ctx.db.read() as session:
        lease = await CheckResultRepository(session).lease(LEASE_NAME)
    last_check = lease.last_run_at if lease else None
    next_check = None
    if scheduler_running(ctx):
        interval = timedelta(seconds=check_interval_seconds(ctx))
        next_check = max(last_check + interval, ctx.clock.now()) if last_check else ctx.clock.now()
    return {
        "schedulerRunning": scheduler_running(ctx),
        "enabled": settings.auto_stop_enabled,
        "checkIntervalMinutes": minutes(settings.auto_stop_check_interval_minutes),
        "defaultInactivityThresholdMinutes": minutes(settings.auto_stop_idle_minutes),
        "startupGracePeriodMinutes": minutes(settings.auto_stop_startup_grace_minutes),
        "creationGracePeriodMinutes": minutes(settings.auto_stop_creation_grace_minutes),
        "lastCheckAt": iso(last_check),
        "nextCheckAt": iso(next_check),
        "lastResult": lease.last_result if lease else None,
        "lastError": lease.last_error if lease else None,
        "spend": (await current_spend(ctx)).as_json(),
    }
