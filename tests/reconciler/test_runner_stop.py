"""Stopping the runner is bounded: a task that ignores cancellation cannot hang shutdown."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from novita_gpu.context import AppContext
from novita_gpu.reconciler.runner import Job, JobContext, Runner
from tests.conftest import Api


def swallowing_cancellation(
    released: asyncio.Event,
) -> Callable[[AppContext], Coroutine[Any, Any, None]]:
    async def stubborn(_: AppContext) -> None:
        """Swallows cancellation until released (the kind of bug stop() must survive)."""
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                continue

    return stubborn


async def polite(_: AppContext) -> None:
    await asyncio.sleep(3600)


async def test_stop_gives_up_on_a_task_that_ignores_cancellation(api: Api) -> None:
    released = asyncio.Event()
    runner = Runner(api.ctx, [], [swallowing_cancellation(released), polite], stop_timeout=0.2)
    runner.start()
    await asyncio.sleep(0)
    tasks = list(runner._tasks)
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(runner.stop(), timeout=5)
    stuck = [entry for entry in logs if entry["event"] == "background task did not stop in time"]
    assert [entry["task"] for entry in stuck] == ["stubborn"]
    assert "stubborn" in stuck[0]["stack"]
    assert tasks[1].cancelled()
    released.set()
    await asyncio.wait_for(tasks[0], timeout=5)


async def test_stop_waits_for_tasks_that_finish(api: Api) -> None:
    runner = Runner(api.ctx, [], [polite], stop_timeout=5)
    runner.start()
    await asyncio.sleep(0)
    tasks = list(runner._tasks)
    with structlog.testing.capture_logs() as logs:
        await runner.stop()
    assert tasks[0].cancelled()
    assert not [entry for entry in logs if "did not stop" in entry["event"]]


async def _idle_job(_: JobContext) -> None:
    return None


async def test_a_run_ending_during_stop_leaves_no_work_behind(api: Api) -> None:
    """Work a run spawns after stop() began would outlive the database it writes to."""
    runner = Runner(api.ctx, [Job("idle", 60, _idle_job)])
    await runner.stop()
    ran = asyncio.Event()

    async def work() -> None:
        ran.set()

    spawned: list[asyncio.Task[None]] = []
    context = runner.job_context(runner.jobs["idle"], spawned)
    item = work()
    context.spawn(item)
    context.wake_after(0)
    await asyncio.sleep(0.01)
    assert spawned == []
    assert not ran.is_set()
    assert inspect.getcoroutinestate(item) == inspect.CORO_CLOSED  # not left pending
