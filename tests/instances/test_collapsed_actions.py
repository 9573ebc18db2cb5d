"""Concurrent identical actions on one instance make one upstream call."""

from __future__ import annotations

import asyncio

import pytest

from novita_gpu.core.singleflight import SingleFlight
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle, status_of


@pytest.mark.parametrize("action", ["stop", "delete"])
async def test_ten_concurrent_actions_make_one_upstream_call(
    api: Api, runner: Runner, action: str
) -> None:
    created = await create(api, healthCheck=NO_PROBE)
    instance_id = created["instanceId"]
    await settle(api, runner)
    assert await status_of(api, instance_id) == "ready"
    api.world.add_fault("latency", f"/gpu/instance/{action}", latency_ms=100)
    before = api.world.request_counts().get(f"POST /gpu/instance/{action}", 0)
    url = f"/api/instances/{instance_id}" + ("/stop" if action == "stop" else "")
    method = "POST" if action == "stop" else "DELETE"
    responses = await asyncio.gather(*(api.client.request(method, url) for _ in range(10)))
    assert {r.status_code for r in responses} == {202}
    after = api.world.request_counts().get(f"POST /gpu/instance/{action}", 0)
    assert after - before == 1
    assert len(api.ctx.actions_in_flight) == 0


async def test_joiners_share_the_failure_and_a_later_call_runs_afresh() -> None:
    flight = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream down")

    results = await asyncio.gather(
        *(flight.run("k", failing) for _ in range(3)), return_exceptions=True
    )
    assert [str(r) for r in results] == ["upstream down"] * 3
    assert calls == 1
    with pytest.raises(RuntimeError):
        await flight.run("k", failing)
    assert calls == 2
