"""What ``/api/instances/migration/scheduler/status`` and ``/health`` say about spot recovery.

Everything comes from the database (the recovery job's lease row, recovery phases, the event
history), so every replica gives the same answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from novita_gpu.context import AppContext
from novita_gpu.db.models import Lease
from novita_gpu.instances.views import iso
from novita_gpu.reconciler.leases import JOB_PREFIX
from novita_gpu.spot.jobs import RECOVERY_JOB
from novita_gpu.spot.phases import IN_FLIGHT, Phase
from novita_gpu.spot.repository import SpotRepository


def _recoveries(by_phase: dict[str, int]) -> dict[str, int]:
    return {
        "pending": by_phase.get(Phase.PENDING, 0),
        "inProgress": sum(by_phase.get(phase, 0) for phase in IN_FLIGHT),
        "failed": by_phase.get(Phase.FAILED, 0),
    }


async def spot_figures(ctx: AppContext) -> dict[str, Any]:
    """Settings, recoveries now (pending / in progress / failed) and totals so far."""
    async with ctx.db.read() as session:
        spot = SpotRepository(session)
        by_phase, totals = await spot.by_phase(), await spot.totals()
    return {
        "enabled": ctx.settings.migration_enabled,
        "dryRun": ctx.settings.migration_dry_run,
        "recoveries": _recoveries(by_phase),
        "totals": totals,
    }


async def scheduler_status(ctx: AppContext) -> dict[str, Any]:
    """The recovery job's schedule and last run, with :func:`spot_figures`."""
    interval = ctx.settings.migration_interval_minutes
    async with ctx.db.read() as session:
        lease = await session.get(Lease, JOB_PREFIX + RECOVERY_JOB)
    last = lease.last_run_at if lease else None
    return {
        **(await spot_figures(ctx)),
        "schedulerRunning": ctx.runner is not None,
        "intervalMinutes": interval,
        "lastRunAt": iso(last),
        "nextRunAt": iso(last + timedelta(minutes=interval)) if last else None,
        "lastDurationMs": lease.last_duration_ms if lease else None,
        "lastError": lease.last_error if lease else None,
        "runCount": lease.run_count if lease else 0,
    }
