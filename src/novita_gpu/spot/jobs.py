"""The reconciler jobs of spot recovery (registered in :mod:`novita_gpu.reconciler.schedule`)."""

from __future__ import annotations

from novita_gpu.reconciler.runner import JobContext
from novita_gpu.spot.recovery import follow_recoveries, run_recovery

RECOVERY_JOB = "spot_recovery"
FOLLOW_JOB = "spot_follow"


async def recover_spot(job: JobContext) -> None:
    """Every ``MIGRATION_INTERVAL_MINUTES``: start or retry the recovery of reclaimed instances."""
    await run_recovery(job.ctx, job.owner)


async def follow_spot(job: JobContext) -> None:
    """At the fast poll interval: follow migrations, recreates and clean-ups in flight."""
    await follow_recoveries(job.ctx, job.owner)
