"""MIGRATION_ENABLED, MIGRATION_DRY_RUN, MIGRATION_INTERVAL_MINUTES and the migration routes."""

from __future__ import annotations

from novita_gpu.reconciler.schedule import default_jobs
from tests.spot.conftest import AppFactory
from tests.spot.helpers import assert_left_stopped, launch, reclaim, recover, view
from tests.support.settings import make_settings


def test_interval_minutes_is_the_recovery_cadence() -> None:
    settings = make_settings("sqlite://", migration_interval_minutes=0.05)
    jobs = {job.name: job for job in default_jobs(settings)}
    assert jobs["spot_recovery"].interval == 3.0


async def test_turned_off_leaves_it_stopped_with_a_reason(app_with: AppFactory) -> None:
    async with app_with(migration_enabled=False) as (api, runner):
        inst = await launch(api, runner, "off", "migrate")
        outcome = await assert_left_stopped(api, runner, inst, "MIGRATION_ENABLED=false")
        assert outcome == "disabled"


async def test_dry_run_reports_and_changes_nothing(app_with: AppFactory) -> None:
    async with app_with(migration_dry_run=True) as (api, runner):
        inst = await launch(api, runner, "dry", "recreate")
        await reclaim(api, runner, inst["novitaInstanceId"])
        answer = await api.client.post(
            "/api/instances/migration/check-failed", json={"immediate": True}
        )
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["dryRun"] is True
        assert [line["instanceId"] for line in report["wouldStart"]] == [inst["id"]]
        await recover(api, runner)
        seen = await view(api, inst["id"])
        assert seen["status"] == "stopped"
        assert seen["novitaInstanceId"] == inst["novitaInstanceId"]
        assert seen["spot"]["lastRecovery"]["outcome"] == "dry_run"
        counts = api.world.request_counts()
        assert counts.get("POST /gpu/instance/create") == 1  # the first create only
        assert "POST /gpu/instance/migrate" not in counts


async def test_routes_report_and_run_recovery(app_with: AppFactory) -> None:
    async with app_with(migration_interval_minutes=0.5) as (api, runner):
        inst = await launch(api, runner, "routed", "migrate")
        await reclaim(api, runner, inst["novitaInstanceId"])
        status = (await api.client.get("/api/instances/migration/scheduler/status")).json()
        assert status["intervalMinutes"] == 0.5
        assert status["recoveries"]["pending"] == 1
        trigger = await api.client.post("/api/instances/migration/scheduler/trigger")
        assert trigger.status_code == 202  # the pass runs after the answer
        assert (await view(api, inst["id"]))["status"] == "migrating"
        await recover(api, runner)
        after = (await api.client.get("/api/instances/migration/scheduler/status")).json()
        assert after["totals"] == {"reclaims": 1, "migrations": 1, "recreates": 0, "failures": 0}
        health = (await api.client.get("/health")).json()
        assert health["spot"]["totals"]["migrations"] == 1
        metrics = (await api.client.get("/metrics")).text
        assert 'novita_gpu_spot_recoveries_total{event="migrated"} 1.0' in metrics
        not_an_id = await api.client.post("/api/instances/migration/check-failed", json={})
        assert not_an_id.status_code == 202
        bad = await api.client.post("/api/instances/migration/check-failed", json={"now": 1})
        assert bad.status_code == 400
