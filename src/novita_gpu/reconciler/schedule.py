"""Which jobs run and how often."""

from __future__ import annotations

from novita_gpu.autostop.service import auto_stop_jobs
from novita_gpu.core.config import Settings
from novita_gpu.reconciler.jobs.follow import FOLLOW_INTERVAL, follow_transitions
from novita_gpu.reconciler.jobs.housekeeping import housekeeping
from novita_gpu.reconciler.jobs.intents import complete_intents
from novita_gpu.reconciler.jobs.readiness import probe_ready
from novita_gpu.reconciler.jobs.recovery import recover_creates
from novita_gpu.reconciler.jobs.status_sync import sync_statuses
from novita_gpu.reconciler.jobs.timeouts import fail_slow_startups
from novita_gpu.reconciler.runner import Job
from novita_gpu.spot.jobs import FOLLOW_JOB, RECOVERY_JOB, follow_spot, recover_spot

READINESS_INTERVAL = 1.0
RECOVERY_INTERVAL = 5.0
TIMEOUT_INTERVAL = 30.0
HOUSEKEEPING_INTERVAL = 3600.0


def default_jobs(settings: Settings) -> list[Job]:
    """The reconciler's jobs; transitional work runs at the fast poll interval."""
    fast = float(settings.instance_fast_poll_interval)
    return [
        Job("status_sync", fast, sync_statuses),
        Job("follow_transitions", FOLLOW_INTERVAL, follow_transitions),
        Job("readiness", min(READINESS_INTERVAL, fast), probe_ready),
        Job("intents", fast, complete_intents),
        Job("create_recovery", min(RECOVERY_INTERVAL, fast * 2), recover_creates),
        Job("startup_timeouts", TIMEOUT_INTERVAL, fail_slow_startups),
        Job("housekeeping", HOUSEKEEPING_INTERVAL, housekeeping),
        *auto_stop_jobs(settings),
        Job(RECOVERY_JOB, settings.migration_interval_minutes * 60, recover_spot),
        Job(FOLLOW_JOB, fast, follow_spot),
    ]
