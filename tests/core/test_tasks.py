"""cancel_and_wait: stops helper tasks, and never swallows the caller's own cancellation."""

from __future__ import annotations

import asyncio

import pytest

from novita_gpu.core.tasks import cancel_and_wait


async def _slow_to_stop(release: asyncio.Event) -> None:
    """A task that needs a moment to clean up once cancelled."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        await release.wait()
        raise


async def test_the_tasks_are_cancelled_and_have_ended() -> None:
    sleepers = [asyncio.ensure_future(asyncio.sleep(3600)) for _ in range(3)]
    await cancel_and_wait(sleepers)
    assert all(task.cancelled() for task in sleepers)


async def test_a_cancellation_of_the_caller_while_it_waits_propagates() -> None:
    release = asyncio.Event()
    helper = asyncio.ensure_future(_slow_to_stop(release))
    await asyncio.sleep(0)
    caller = asyncio.ensure_future(cancel_and_wait([helper]))
    await asyncio.sleep(0)  # the caller now waits for the helper to finish cleaning up
    caller.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.wait([helper])
    assert helper.cancelled()


async def test_errors_of_the_tasks_are_dropped() -> None:
    async def fails_when_cancelled() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    failing = asyncio.ensure_future(fails_when_cancelled())
    await asyncio.sleep(0)
    await cancel_and_wait({failing})
    assert isinstance(failing.exception(), RuntimeError)
