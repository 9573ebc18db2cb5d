"""Jobs run sooner than their interval when woken: by another part of the process (status sync
wakes readiness when it records ``running``) or by themselves (a readiness round due soon).
The clock never moves past the intervals here, so only a wake-up can explain a second run."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from novita_gpu.db.models import Instance
from novita_gpu.instances.uow import Change, UnitOfWork, update_instance
from novita_gpu.reconciler.jobs.readiness import JOB_NAME, probe_ready
from novita_gpu.reconciler.jobs.status_sync import sync_statuses
from novita_gpu.reconciler.runner import Job, JobContext, Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, status_of
from tests.support.polling import eventually

HOUR = 3600.0


class Counter:
    def __init__(self, wake_after: float | None = None) -> None:
        self.runs = 0
        self.wake_after = wake_after

    async def __call__(self, job: JobContext) -> None:
        self.runs += 1
        if self.wake_after is not None and self.runs == 1:
            job.wake_after(self.wake_after)


async def test_a_woken_job_runs_again_before_its_interval(api: Api) -> None:
    counter = Counter()
    runner = Runner(api.ctx, [Job("counter", HOUR, counter)])
    runner.start()
    try:
        await eventually(lambda: counter.runs == 1)
        runner.wake("counter")
        await eventually(lambda: counter.runs == 2)
    finally:
        await runner.stop()


async def test_a_job_asks_to_run_again_when_its_next_item_is_due(api: Api) -> None:
    counter = Counter(wake_after=5.0)
    runner = Runner(api.ctx, [Job("counter", HOUR, counter)])
    runner.start()
    try:
        await eventually(lambda: counter.runs == 1 and api.clock.pending_sleepers >= 2)
        api.clock.advance(5.0)
        await eventually(lambda: counter.runs == 2)
    finally:
        await runner.stop()


async def test_status_sync_recording_running_wakes_readiness(api: Api) -> None:
    jobs = [Job("status_sync", HOUR, sync_statuses), Job(JOB_NAME, HOUR, probe_ready)]
    runner = Runner(api.ctx, jobs)
    api.ctx.runner = runner
    runner.start()
    try:
        await eventually(lambda: api.clock.pending_sleepers >= 2)  # both first runs done
        created = await create(api, healthCheck=NO_PROBE)
        api.clock.advance(30)  # upstream is running; no job's interval has passed
        assert await runner.run_once("status_sync")

        async def is_ready() -> bool:
            return await status_of(api, created["instanceId"]) == "ready"

        await eventually(is_ready, what="readiness woken by status sync")
    finally:
        api.ctx.runner = None
        await runner.stop()


async def test_readiness_asks_to_run_when_the_next_waiting_instance_is_due(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each instance asks for a run when its next round is due, but only the earliest request
    is kept; a run therefore asks for the next one itself, or later rounds wait a whole tick."""
    first = (await create(api, "due-soon", healthCheck=NO_PROBE))["instanceId"]
    later = (await create(api, "due-later", healthCheck=NO_PROBE))["instanceId"]
    now = api.clock.now()
    for instance_id, seconds in ((first, 0.0), (later, 3.0)):
        await update_instance(api.ctx, instance_id, waiting_until(now + timedelta(seconds=seconds)))
    runner = Runner(api.ctx, [Job(JOB_NAME, HOUR, probe_ready)])
    wakes: list[tuple[str, float]] = []
    monkeypatch.setattr(runner, "wake_after", lambda name, seconds: wakes.append((name, seconds)))
    try:
        await runner.run_once(JOB_NAME)
    finally:
        await runner.stop()
    assert (JOB_NAME, 3.0) in wakes


def waiting_until(moment: datetime) -> Change:
    async def change(uow: UnitOfWork, row: Instance) -> None:
        row.status = "health_checking"
        row.health_check_config = {"enabled": False}
        row.next_probe_at = moment

    return change
