"""Spot recovery across a lost create answer (the state a crash between the recreate's upstream
create and its commit leaves) and across two replicas sharing one database."""

from __future__ import annotations

import asyncio

from novita_gpu.instances.placement import lease_hold, offer_query_for, place
from novita_gpu.reconciler.runner import Runner
from novita_gpu.spot import record
from novita_gpu.spot.recovery import follow_recoveries, run_recovery
from tests.conftest import Api
from tests.spot.conftest import AppFactory
from tests.spot.helpers import launch, live_upstream, reclaim, recover, view


async def test_a_create_whose_answer_was_lost_is_found_not_repeated(
    api: Api, runner: Runner
) -> None:
    inst = await launch(api, runner, "phoenix", "recreate")
    old = inst["novitaInstanceId"]
    await reclaim(api, runner, old)
    api.world.add_fault("lost_response", "/gpu/instance/create", count=1)
    lookup = api.world.add_fault("error", "/gpu/instances", status=503)
    await runner.run_once("spot_recovery")
    # Upstream made the instance; we do not know its id, and nothing but the intent is stored.
    pending = await view(api, inst["id"])
    assert (pending["status"], pending["novitaInstanceId"]) == ("migrating", old)
    assert pending["spot"]["recovery"] == "recreating"
    assert len(live_upstream(api, "phoenix")) == 2  # the reclaimed one (exited) and the new one
    api.world.remove_fault(lookup)
    api.clock.advance(api.ctx.settings.create_listing_delay_seconds + 1)
    await recover(api, runner)
    back = await view(api, inst["id"])
    assert back["status"] == "ready", back
    assert live_upstream(api, "phoenix") == [back["novitaInstanceId"]]
    assert back["novitaInstanceId"] != old
    assert api.world.request_counts()["POST /gpu/instance/create"] == 2  # first + one recreate


async def test_a_crash_between_the_recreate_and_its_commit(api: Api, runner: Runner) -> None:
    inst = await launch(api, runner, "crashy", "recreate")
    await reclaim(api, runner, inst["novitaInstanceId"])
    # What the recovery does up to the upstream create; then the process dies.
    row = await record.begin_recreate(api.ctx, inst["id"], reason=None)
    assert row is not None
    offers = await api.ctx.catalog.choose_offers(offer_query_for(row, region=None))
    placement = await place(api.ctx, row.id, offers, owner="dead-replica")
    assert placement.novita_id is not None
    api.clock.advance(lease_hold(api.ctx).total_seconds() + 1)  # its lease runs out
    await recover(api, runner)
    back = await view(api, inst["id"])
    assert back["status"] == "ready", back
    assert back["novitaInstanceId"] == placement.novita_id
    assert live_upstream(api, "crashy") == [placement.novita_id]
    assert api.world.request_counts()["POST /gpu/instance/create"] == 2


async def test_an_instance_deleted_during_its_recreate_leaves_nothing_running(
    api: Api, runner: Runner
) -> None:
    inst = await launch(api, runner, "doomed", "recreate")
    await reclaim(api, runner, inst["novitaInstanceId"])
    api.world.add_fault("lost_response", "/gpu/instance/create", count=1)
    lookup = api.world.add_fault("error", "/gpu/instances", status=503)
    await runner.run_once("spot_recovery")
    assert (await api.client.delete(f"/api/instances/{inst['id']}")).status_code == 202
    api.world.remove_fault(lookup)
    api.clock.advance(api.ctx.settings.create_listing_delay_seconds + 1)
    await recover(api, runner)
    assert live_upstream(api, "doomed") == []
    assert (await view(api, inst["id"]))["status"] == "deleted"


async def test_two_replicas_recover_each_reclaim_once(app_with: AppFactory) -> None:
    async with app_with() as (one, runner), app_with() as (two, _):
        inst = await launch(one, runner, "shared", "migrate")
        await reclaim(one, runner, inst["novitaInstanceId"])
        await asyncio.gather(run_recovery(one.ctx, "replica-1"), run_recovery(two.ctx, "replica-2"))
        for _ in range(3):
            one.clock.advance(5)
            await asyncio.gather(
                follow_recoveries(one.ctx, "replica-1"), follow_recoveries(two.ctx, "replica-2")
            )
        await recover(one, runner)
        assert (await view(two, inst["id"]))["status"] == "ready"
        counts = one.world.request_counts()
        assert counts["POST /gpu/instance/migrate"] == 1
        assert counts["POST /gpu/instance/create"] == 1
        events = (await two.client.get(f"/api/instances/{inst['id']}/events")).json()["events"]
        assert [e["type"] for e in events].count("instance.migrated") == 1
