"""Spot recovery on the manual clock against the in-process emulator: the notice, each
``spotRecovery`` mode, the fallback from a failed migration, dry run and recovery turned off."""

from __future__ import annotations

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.spot.helpers import (
    assert_left_stopped,
    event_types,
    launch,
    live_upstream,
    reclaim,
    recover,
    view,
)


class TestNotice:
    async def test_notice_is_recorded_once_with_the_reclaim_time(
        self, api: Api, runner: Runner
    ) -> None:
        inst = await launch(api, runner, "noticed", "none")
        api.world.reclaim(inst["novitaInstanceId"], 120)
        for _ in range(3):
            api.clock.advance(30)
            await runner.run_once("status_sync")
        seen = await view(api, inst["id"])
        assert seen["spot"]["status"] == "notified"
        assert seen["spot"]["reclaimTime"] is not None
        types = await event_types(api, inst["id"])
        assert types.count("instance.spot_reclaim_notice") == 1
        events = (await api.client.get(f"/api/instances/{inst['id']}/events")).json()["events"]
        notice = next(e for e in events if e["type"] == "instance.spot_reclaim_notice")
        assert notice["data"]["reclaimTime"] == seen["spot"]["reclaimTime"]


class TestModes:
    async def test_none_stays_stopped_with_the_reason(self, api: Api, runner: Runner) -> None:
        inst = await launch(api, runner, "left", "none")
        assert await assert_left_stopped(api, runner, inst, "reclaimed") == "stopped"

    async def test_migrate_keeps_the_upstream_instance(self, api: Api, runner: Runner) -> None:
        inst = await launch(api, runner, "moved", None)  # migrate is the spot default
        assert inst["spotRecovery"] == "migrate"
        await reclaim(api, runner, inst["novitaInstanceId"])
        await recover(api, runner)
        back = await view(api, inst["id"])
        assert back["status"] == "ready", back
        assert back["novitaInstanceId"] == inst["novitaInstanceId"]
        assert back["spot"]["recoveries"] == 1
        assert back["spot"]["lastRecovery"]["outcome"] == "migrated"
        assert back["lastError"] is None
        types = await event_types(api, inst["id"])
        tail = types[types.index("instance.spot_reclaim_notice") :]
        assert tail == ["instance.spot_reclaim_notice", "instance.stopped",
                        "instance.migrating", "instance.migrated", "instance.health_checking",
                        "instance.ready"]  # fmt: skip

    async def test_recreate_keeps_id_and_name_and_deletes_the_reclaimed_one(
        self, api: Api, runner: Runner
    ) -> None:
        inst = await launch(api, runner, "reborn", "recreate")
        old = inst["novitaInstanceId"]
        await reclaim(api, runner, old)
        await recover(api, runner)
        back = await view(api, inst["id"])
        assert back["status"] == "ready", back
        assert (back["id"], back["name"]) == (inst["id"], inst["name"])
        assert back["novitaInstanceId"] != old
        assert api.world.request_counts()["POST /gpu/instance/delete"] == 1
        assert live_upstream(api, "reborn") == [back["novitaInstanceId"]]
        assert back["spot"]["lastRecovery"]["fromNovitaInstanceId"] == old
        assert "instance.migrated" in await event_types(api, inst["id"])

    async def test_failed_migration_falls_back_to_recreate(self, api: Api, runner: Runner) -> None:
        inst = await launch(api, runner, "fallback", "migrate")
        api.world.set_migrate_outcome("fail")
        await reclaim(api, runner, inst["novitaInstanceId"])
        await recover(api, runner)
        back = await view(api, inst["id"])
        assert back["status"] == "ready", back
        assert back["novitaInstanceId"] != inst["novitaInstanceId"]
        assert back["spot"]["lastRecovery"]["mode"] == "recreate"
        events = (await api.client.get(f"/api/instances/{inst['id']}/events")).json()["events"]
        assert any("fallbackReason" in e["data"] for e in events)

    async def test_no_capacity_to_migrate_falls_back_to_recreate(
        self, api: Api, runner: Runner
    ) -> None:
        inst = await launch(api, runner, "crowded", "migrate")
        api.world.add_fault(
            "error", "/gpu/instance/migrate", status=400, reason="MIGRATE_INSUFFICIENT_RESOURCE"
        )
        await reclaim(api, runner, inst["novitaInstanceId"])
        await recover(api, runner)
        back = await view(api, inst["id"])
        assert back["status"] == "ready", back
        assert back["novitaInstanceId"] != inst["novitaInstanceId"]

    async def test_nowhere_to_go_fails_with_the_reason(self, api: Api, runner: Runner) -> None:
        inst = await launch(api, runner, "stranded", "recreate")
        await reclaim(api, runner, inst["novitaInstanceId"])
        for product in api.world.catalog.products.values():
            for cluster in api.world.catalog.clusters_of(product):
                api.world.set_capacity(product.id, cluster.id, 0)
        api.clock.advance(api.ctx.settings.catalog_cache_ttl + 1)
        await recover(api, runner)
        failed = await view(api, inst["id"])
        assert failed["status"] == "failed"
        assert failed["lastError"].startswith("Spot recovery failed")
        assert failed["spot"]["lastRecovery"]["outcome"] == "failed"
