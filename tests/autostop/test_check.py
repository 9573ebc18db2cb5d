"""The auto-stop check against the emulator on a manual clock: each rule end to end through
the API, events, heartbeats by id and by name, dry runs, failures and upstream-only instances."""

from __future__ import annotations

from sqlalchemy import func, select

from novita_gpu.db.models import InstanceEvent, WebhookDelivery
from novita_gpu.reconciler.runner import Runner
from tests.autostop.helpers import calls, events, fast_policy, ready, trigger, types
from tests.conftest import Api
from tests.instances.helpers import settle, status_of

ONE_MINUTE = {"enabled": True, "idleMinutes": 1}


class TestIdle:
    async def test_idle_instance_is_stopped_with_the_event_first(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "idle", autoStop=ONE_MINUTE)
        api.clock.advance(50)
        assert (await trigger(api))["stopped"] == 0
        api.clock.advance(15)
        assert await runner.run_once("auto_stop")
        assert await status_of(api, instance_id) == "stopping"
        found = await events(api, instance_id)
        assert [e["type"] for e in found][-2:] == ["instance.auto_stopped", "instance.stopping"]
        data = found[-2]["data"]
        assert data["reason"] == "idle"
        assert data["idleMinutes"] == 1
        assert data["lastUsedAt"] is None
        assert data["idleForMinutes"] >= 1
        await settle(api, runner)
        assert await status_of(api, instance_id) == "stopped"
        assert (await types(api, instance_id))[-1] == "instance.stopped"

    async def test_heartbeats_by_id_and_by_name_keep_it_running(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "busy", autoStop=ONE_MINUTE)
        for beat in range(4):
            api.clock.advance(45)
            if beat % 2:
                await api.client.put(f"/api/instances/{instance_id}/last-used", json={})
            else:
                await api.client.put("/api/instances/last-used", json={"instanceName": "busy"})
            assert (await trigger(api))["eligible"] == 0
        api.clock.advance(61)
        result = await trigger(api)
        assert result["stopped"] == 1
        stopped = (await events(api, instance_id))[-2]
        assert stopped["data"]["lastUsedAt"] is not None

    async def test_creation_grace_then_startup_grace_and_restart_clears_heartbeat(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api, grace=0)
        api.ctx.settings.auto_stop_creation_grace_minutes = 30
        api.ctx.settings.auto_stop_startup_grace_minutes = 20
        instance_id = await ready(api, runner, "graced", autoStop=ONE_MINUTE)
        api.clock.advance(29 * 60)
        assert (await trigger(api))["eligible"] == 0
        api.clock.advance(61)
        assert (await trigger(api))["stopped"] == 1
        await settle(api, runner)
        await api.client.put(f"/api/instances/{instance_id}/last-used", json={})
        assert (await api.client.post(f"/api/instances/{instance_id}/start")).status_code == 202
        await settle(api, runner, 5)
        started = (await api.client.get(f"/api/instances/{instance_id}")).json()
        assert started["status"] == "ready"
        assert started["lastUsedAt"] is None
        api.clock.advance(19 * 60)
        assert (await trigger(api))["eligible"] == 0
        api.clock.advance(61)
        assert (await trigger(api))["stopped"] == 1

    async def test_disabled_auto_stop_is_left_alone(self, api: Api, runner: Runner) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "off", autoStop={"enabled": False})
        api.clock.advance(3600)
        assert (await trigger(api))["eligible"] == 0
        assert await status_of(api, instance_id) == "ready"


class TestRuntimeCapAndAutoDelete:
    async def test_runtime_cap_stops_despite_heartbeats(self, api: Api, runner: Runner) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "cap", maxRuntimeMinutes=1.5)
        api.clock.advance(80)
        await api.client.put(f"/api/instances/{instance_id}/last-used", json={})
        assert (await trigger(api))["eligible"] == 0
        api.clock.advance(15)
        await api.client.put(f"/api/instances/{instance_id}/last-used", json={})
        result = await trigger(api)
        assert result["instances"][0]["reason"] == "max_runtime"
        auto = (await events(api, instance_id))[-2]
        assert auto["type"] == "instance.auto_stopped"
        assert auto["data"]["reason"] == "max_runtime"
        assert auto["data"]["maxRuntimeMinutes"] == 1.5

    async def test_stopped_instance_is_deleted_after_its_minutes(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api)
        instance_id = await ready(
            api, runner, "del", autoStop={"enabled": False}, autoDelete={"afterStoppedMinutes": 1}
        )
        await api.client.post(f"/api/instances/{instance_id}/stop")
        await settle(api, runner, 5)
        assert await status_of(api, instance_id) == "stopped"
        api.clock.advance(30)
        assert (await trigger(api))["eligible"] == 0
        api.clock.advance(31)
        assert (await trigger(api))["deleted"] == 1
        assert calls(api, "POST /gpu/instance/delete") == 1
        found = await types(api, instance_id)
        assert found[-2:] == ["instance.auto_deleted", "instance.deleting"]
        await settle(api, runner)
        assert await status_of(api, instance_id) == "deleted"


async def _row_counts(api: Api) -> tuple[int, int]:
    async with api.ctx.db.read() as session:
        event_count = (await session.execute(select(func.count(InstanceEvent.id)))).scalar_one()
        deliveries = (await session.execute(select(func.count(WebhookDelivery.id)))).scalar_one()
    return event_count, deliveries


class TestDryRunAndSafety:
    async def test_dry_run_changes_nothing(self, api: Api, runner: Runner) -> None:
        fast_policy(api)
        instance_id = await ready(
            api, runner, "dry", autoStop=ONE_MINUTE, webhookUrl="http://h.test/x"
        )
        api.clock.advance(120)
        before = await _row_counts(api)
        stats_before = (await api.client.get("/api/instances/auto-stop/stats")).json()
        result = await trigger(api, dry_run=True)
        assert result["dryRun"] is True
        assert result["eligible"] == 1
        assert result["instances"][0]["outcome"] == "planned"
        assert result["instances"][0]["instanceId"] == instance_id
        assert await _row_counts(api) == before
        assert await status_of(api, instance_id) == "ready"
        assert calls(api, "POST /gpu/instance/stop") == 0
        stats_after = (await api.client.get("/api/instances/auto-stop/stats")).json()
        assert stats_after["lastResult"] == stats_before["lastResult"] is None

    async def test_trigger_defaults_to_dry_run_and_rejects_non_booleans(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api)
        await ready(api, runner, "dflt", autoStop=ONE_MINUTE)
        api.clock.advance(120)
        default = await api.client.post("/api/instances/auto-stop/trigger")
        assert default.json()["dryRun"] is True
        assert default.json()["stopped"] == 0
        for bad in ("yes", 0, "false", None):
            response = await api.client.post(
                "/api/instances/auto-stop/trigger", json={"dryRun": bad}
            )
            assert response.status_code == 400, bad
            assert response.json()["error"]["code"] == "VALIDATION_ERROR"

    async def test_upstream_only_instances_are_never_touched(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api)
        outsider = api.world.create_instance(
            {"name": "outsider", "productId": "4090.16c62g", "gpuNum": 1, "rootfsSize": 60,
             "imageUrl": "busybox", "kind": "gpu", "clusterId": "us-ca-6"}
        )  # fmt: skip
        await ready(api, runner, "ours", autoStop=ONE_MINUTE)
        api.clock.advance(3600)
        result = await trigger(api)
        assert result["stopped"] == 1
        assert result["checked"] == 1
        assert calls(api, "POST /gpu/instance/stop") == 1
        assert api.world.instance(outsider.id).status.value == "running"

    async def test_unreadable_upstream_skips_and_counts_then_retries(
        self, api: Api, runner: Runner
    ) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "stale", autoStop=ONE_MINUTE)
        api.clock.advance(120)
        api.world.add_fault("error", "/gpu/instances", status=503)
        result = await trigger(api)
        assert (result["stopped"], result["errors"]) == (0, 1)
        assert result["instances"][0]["outcome"] == "skipped"
        assert await status_of(api, instance_id) == "ready"
        api.world.clear_faults()
        assert (await trigger(api))["stopped"] == 1

    async def test_upstream_disagreeing_is_not_acted_on(self, api: Api, runner: Runner) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "gone", autoStop=ONE_MINUTE)
        created = (await api.client.get(f"/api/instances/{instance_id}")).json()
        api.world.stop_instance(created["novitaInstanceId"])  # stopped behind our back
        api.clock.advance(120)
        result = await trigger(api)
        assert result["errors"] == 1
        assert result["instances"][0]["outcome"] == "skipped"
        assert calls(api, "POST /gpu/instance/stop") == 0

    async def test_one_failure_does_not_stop_the_pass(self, api: Api, runner: Runner) -> None:
        fast_policy(api)
        first = await ready(api, runner, "one", autoStop=ONE_MINUTE)
        second = await ready(api, runner, "two", autoStop=ONE_MINUTE)
        api.clock.advance(120)
        api.world.add_fault("error", "/gpu/instance/stop", count=3, status=500)
        result = await trigger(api)
        assert (result["stopped"], result["errors"]) == (1, 1)
        outcomes = sorted(item["outcome"] for item in result["instances"])
        assert outcomes == ["done", "failed"]
        assert (await api.client.get("/api/instances/auto-stop/stats")).json()["lastResult"][
            "errors"
        ] == 1
        health = (await api.client.get("/health")).json()
        assert health["autoStop"]["errors"] == 1
        assert (await trigger(api))["stopped"] == 1
        statuses = {await status_of(api, first), await status_of(api, second)}
        assert statuses == {"stopping"}
