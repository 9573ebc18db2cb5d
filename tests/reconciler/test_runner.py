"""The runner: a failing job is logged once with its name and counted in /metrics."""

from __future__ import annotations

import structlog

from novita_gpu.reconciler.runner import Job, JobContext, Runner
from tests.conftest import Api


async def broken(_: JobContext) -> None:
    raise RuntimeError("disk on fire")


async def test_a_job_exception_is_logged_once_and_counted(api: Api) -> None:
    runner = Runner(api.ctx, [Job("broken", 60, broken)])
    try:
        with structlog.testing.capture_logs() as logs:
            assert await runner.run_once("broken")
    finally:
        await runner.stop()
    failures = [entry for entry in logs if entry.get("job") == "broken"]
    assert len(failures) == 1
    assert failures[0]["event"] == "job failed"
    assert failures[0]["log_level"] == "error"
    metrics = (await api.client.get("/metrics")).text
    assert 'novita_gpu_job_errors_total{job="broken"} 1.0' in metrics
