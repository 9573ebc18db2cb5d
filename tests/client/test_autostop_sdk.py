"""The SDK's cost-control calls against the real app in-process, on simulated time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from novita_gpu.client import AsyncClient
from novita_gpu.reconciler.runner import Runner
from tests.autostop.helpers import fast_policy
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, settle


@pytest.fixture
async def sdk(api: Api) -> AsyncIterator[AsyncClient]:
    async with AsyncClient("http://testserver", http_client=api.client) as client:
        yield client


async def test_stats_trigger_and_sync(sdk: AsyncClient, api: Api, runner: Runner) -> None:
    fast_policy(api)
    created = await sdk.create_instance(
        "sdk-idle", "RTX 4090 24GB", "pytorch-jupyter",
        health_check=NO_PROBE, auto_stop={"enabled": True, "idleMinutes": 1},
    )  # fmt: skip
    await settle(api, runner, 5)
    api.clock.advance(90)
    planned = await sdk.trigger_auto_stop()
    assert planned.dry_run is True
    assert [i.instance_id for i in planned.instances] == [created.instance_id]
    assert planned.instances[0].outcome == "planned"
    done = await sdk.trigger_auto_stop(dry_run=False)
    assert (done.dry_run, done.stopped) == (False, 1)
    stats = await sdk.auto_stop_stats()
    assert stats.last_result is not None
    assert stats.last_result.stopped == 1
    assert stats.spend is not None
    assert stats.default_inactivity_threshold_minutes == 10
    api.clock.advance(30)
    synced = await sdk.sync()
    assert [(c.from_status, c.to_status) for c in synced.changed] == [("stopping", "stopped")]
