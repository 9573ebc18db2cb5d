"""The reconciler's verdicts: startup timeouts, upstream failures, vanished instances, and the
heartbeats /health reports. Driven on the manual clock against the in-process emulator."""

from __future__ import annotations

from typing import Any

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle


async def instance(api: Api, instance_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.client.get(f"/api/instances/{instance_id}")).json()
    return body


async def event_types(api: Api, instance_id: str) -> list[str]:
    events = (await api.client.get(f"/api/instances/{instance_id}/events")).json()["events"]
    return [event["type"] for event in events]


class TestStartupTimeout:
    async def test_stuck_creating_fails_with_the_reason(self, api: Api, runner: Runner) -> None:
        created = await create(api, "stuck", healthCheck=NO_PROBE)
        api.world.add_fault("error", "/gpu/instances", status=503)  # we never see it progress
        api.clock.advance(api.ctx.settings.instance_startup_timeout_minutes * 60 + 1)
        await runner.run_once("startup_timeouts")
        failed = await instance(api, created["instanceId"])
        assert failed["status"] == "failed"
        assert "Startup timed out" in failed["lastError"]
        assert (await event_types(api, created["instanceId"]))[-1] == "instance.failed"

    async def test_a_quick_start_is_left_alone(self, api: Api, runner: Runner) -> None:
        created = await create(api, "quick", healthCheck=NO_PROBE)
        api.clock.advance(60)
        await runner.run_once("startup_timeouts")
        assert (await instance(api, created["instanceId"]))["status"] == "creating"


class TestUpstreamVerdicts:
    async def test_status_error_while_booting_fails_with_upstream_message(
        self, api: Api, runner: Runner
    ) -> None:
        created = await create(api, "broken", healthCheck=NO_PROBE)
        api.world.fail(created["novitaInstanceId"], "image pull failed: manifest unknown")
        await runner.run_once("status_sync")
        failed = await instance(api, created["instanceId"])
        assert failed["status"] == "failed"
        assert "image pull failed" in failed["lastError"]

    async def test_vanished_instance_is_terminated(self, api: Api, runner: Runner) -> None:
        created = await create(api, "ghost", healthCheck=NO_PROBE)
        await settle(api, runner)
        api.world.vanish(created["novitaInstanceId"])
        api.clock.advance(60)
        await runner.run_once("status_sync")
        gone = await instance(api, created["instanceId"])
        assert gone["status"] == "terminated"
        assert "disappeared" in gone["lastError"]
        assert (await event_types(api, created["instanceId"]))[-1] == "instance.terminated"

    async def test_upstream_only_instances_are_never_touched(
        self, api: Api, runner: Runner
    ) -> None:
        outsider = api.world.create_instance(
            {"name": "outsider", "productId": "4090.16c62g", "gpuNum": 1, "rootfsSize": 60,
             "imageUrl": "busybox", "kind": "gpu", "clusterId": "us-ca-6"}
        )  # fmt: skip
        await create(api, "ours", healthCheck=NO_PROBE)
        for _ in range(3):
            await settle(api, runner)
        counts = api.world.request_counts()
        assert not any(
            key.startswith("POST") and key != "POST /gpu/instance/create" for key in counts
        )
        assert api.world.instance(outsider.id).status.value == "running"


class TestHeartbeats:
    async def test_health_reports_jobs_and_a_stalled_loop(self, api: Api, runner: Runner) -> None:
        before = (await api.client.get("/health")).json()
        assert before["services"]["reconciler"] == "down"  # nothing has run yet
        for job in runner.jobs:
            await runner.run_once(job)
        running = (await api.client.get("/health")).json()
        assert running["services"]["reconciler"] == "up"
        assert set(running["jobs"]) == set(runner.jobs)
        api.clock.advance(600)  # no job ran for ten minutes: the fast ones are stale
        stalled = (await api.client.get("/health")).json()
        assert stalled["services"]["reconciler"] == "degraded"
        assert stalled["status"] == "degraded"
        assert stalled["jobs"]["status_sync"]["stale"] is True


class TestRetention:
    async def test_tombstones_are_purged_after_retention(self, api: Api, runner: Runner) -> None:
        old = await create(api, "old", healthCheck=NO_PROBE)
        await settle(api, runner)
        await api.client.delete(f"/api/instances/{old['instanceId']}")
        await settle(api, runner)
        api.clock.advance(api.ctx.settings.deleted_retention_days * 86_400 - 3600)
        recent = await create(api, "recent", healthCheck=NO_PROBE)
        await api.client.delete(f"/api/instances/{recent['instanceId']}")
        await settle(api, runner)
        api.clock.advance(7200)
        await runner.run_once("housekeeping")
        assert (await api.client.get(f"/api/instances/{old['instanceId']}")).status_code == 404
        kept = await instance(api, recent["instanceId"])
        assert kept["status"] == "deleted"
