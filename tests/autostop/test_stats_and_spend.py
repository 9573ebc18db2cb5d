"""Stats, spend and savings in the stats, /health and /metrics; the sync route."""

from __future__ import annotations

import pytest

from novita_gpu.reconciler.runner import Runner
from tests.autostop.helpers import fast_policy, ready, trigger
from tests.conftest import Api
from tests.instances.helpers import settle, status_of

STATS = "/api/instances/auto-stop/stats"


class TestStats:
    async def test_shape_before_and_after_a_check(self, api: Api, runner: Runner) -> None:
        first = (await api.client.get(STATS)).json()
        assert first["schedulerRunning"] is False  # no background loops in this app
        assert first["checkIntervalMinutes"] == 2
        assert first["defaultInactivityThresholdMinutes"] == 10
        assert first["startupGracePeriodMinutes"] == 45
        assert first["creationGracePeriodMinutes"] == 60
        assert first["lastCheckAt"] is None
        assert first["lastResult"] is None
        fast_policy(api)
        await ready(api, runner, "s1", autoStop={"enabled": True, "idleMinutes": 1})
        api.clock.advance(90)
        assert await runner.run_once("auto_stop")
        after = (await api.client.get(STATS)).json()
        assert after["lastCheckAt"] is not None
        result = after["lastResult"]
        assert {k: result[k] for k in ("checked", "eligible", "stopped", "deleted", "errors")} == {
            "checked": 1, "eligible": 1, "stopped": 1, "deleted": 0, "errors": 0,
        }  # fmt: skip
        assert result["dryRun"] is False
        assert result["instances"][0]["name"] == "s1"

    async def test_not_captured_by_the_instance_route(self, api: Api) -> None:
        response = await api.client.get(STATS)
        assert response.status_code == 200
        assert "schedulerRunning" in response.json()


class TestSpend:
    async def test_running_spend_accrued_cost_and_savings(self, api: Api, runner: Runner) -> None:
        fast_policy(api)
        instance_id = await ready(api, runner, "cost", autoStop={"enabled": True, "idleMinutes": 1})
        price = (await api.client.get(f"/api/instances/{instance_id}")).json()["pricePerHour"]
        cost = (await api.client.get("/health")).json()["cost"]
        assert cost["runningUsdPerHour"] == pytest.approx(price)
        assert cost["runningInstances"] == 1
        api.clock.advance(60)
        await trigger(api)
        await settle(api, runner, 1)
        assert await status_of(api, instance_id) == "stopped"
        api.clock.advance(3600)
        cost = (await api.client.get("/health")).json()["cost"]
        assert cost["runningUsdPerHour"] == 0
        assert cost["savedByAutoStopUsd"] == pytest.approx(price, rel=0.01)
        view = (await api.client.get(f"/api/instances/{instance_id}")).json()
        assert cost["accruedCostUsd"] == pytest.approx(view["estimatedCostUsd"], rel=0.01)
        await api.client.post(f"/api/instances/{instance_id}/start")
        api.clock.advance(3600)
        later = (await api.client.get("/health")).json()["cost"]
        assert later["savedByAutoStopUsd"] == pytest.approx(price, rel=0.01)  # stopped growing
        metrics = (await api.client.get("/metrics")).text
        assert "novita_gpu_saved_by_auto_stop_usd" in metrics
        assert "novita_gpu_spend_usd_per_hour" in metrics


class TestSync:
    async def test_sync_reports_and_applies_upstream_changes(
        self, api: Api, runner: Runner
    ) -> None:
        instance_id = await ready(api, runner, "sync")
        novita_id = (await api.client.get(f"/api/instances/{instance_id}")).json()[
            "novitaInstanceId"
        ]
        api.world.stop_instance(novita_id)
        api.clock.advance(30)
        dry = (await api.client.post("/api/instances/sync", json={"dryRun": True})).json()
        assert dry["dryRun"] is True
        assert dry["changed"][0]["instanceId"] == instance_id
        assert await status_of(api, instance_id) == "ready"
        done = await api.client.post("/api/instances/sync")
        assert done.status_code == 200
        change = done.json()["changed"][0]
        assert (change["from"], change["to"]) == ("ready", "stopped")
        assert await status_of(api, instance_id) == "stopped"
        again = (await api.client.post("/api/instances/sync")).json()
        assert again["changed"] == []
        assert again["checked"] == 1

    async def test_sync_when_upstream_is_down_is_a_typed_error(self, api: Api) -> None:
        api.world.add_fault("error", "/gpu/instances", status=503)
        response = await api.client.post("/api/instances/sync")
        assert response.status_code in (502, 503)
        assert response.json()["error"]["code"] in ("UPSTREAM_ERROR", "UPSTREAM_UNAVAILABLE")


class TestHealth:
    async def test_a_triggered_check_with_the_scheduler_off_never_looks_stalled(
        self, api: Api, runner: Runner
    ) -> None:
        api.ctx.settings.auto_stop_enabled = False
        for job in runner.jobs:
            await runner.run_once(job)
        await trigger(api)
        api.clock.advance(600)
        for job in runner.jobs:
            if job != "auto_stop":  # only triggered: its row goes quiet
                await runner.run_once(job)
        health = (await api.client.get("/health")).json()
        assert health["services"]["reconciler"] == "up"
        assert "auto_stop" in health["jobs"]
