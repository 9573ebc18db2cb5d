"""Two replicas on one database (PostgreSQL in CI's second run) check at the same moment:
the idle instance is stopped exactly once, with one event."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from novita_gpu.reconciler.runner import Runner
from novita_gpu.reconciler.schedule import default_jobs
from tests.autostop.helpers import calls, fast_policy, ready, types
from tests.conftest import Api, app_options
from tests.support.asgi import running_app


async def test_two_replicas_stop_an_idle_instance_once(
    api: Api,
    runner: Runner,
    settings: Settings,
    clock: ManualClock,
    emulator: Starlette,
) -> None:
    fast_policy(api)
    instance_id = await ready(api, runner, "twice", autoStop={"enabled": True, "idleMinutes": 1})
    clock.advance(120)
    other = create_app(settings, app_options(clock, emulator))
    async with running_app(other) as (_, state):
        second = Runner(state["ctx"], default_jobs(settings))
        try:
            ran = await asyncio.gather(runner.run_once("auto_stop"), second.run_once("auto_stop"))
            if not all(ran):  # the loser found the lease held; a later pass finds nothing due
                clock.advance(1)
                await second.run_once("auto_stop")
                await runner.run_once("auto_stop")
        finally:
            await second.stop()
    assert calls(api, "POST /gpu/instance/stop") == 1
    assert (await types(api, instance_id)).count("instance.auto_stopped") == 1
