"""Spot reclaims, migration jobs, failures and vanishing instances."""

from __future__ import annotations

import httpx
import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import (
    EmulatorConfig,
    EmulatorError,
    World,
    create_emulator_app,
    emulator_transport,
)
from tests.emulator.conftest import AUTH
from tests.emulator.helpers import create, get, running, status_of


class TestSpotReclaim:
    async def test_notified_reclaiming_terminated_exited(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await running(client, clock, billingMode="spot")
        now = int(clock.now().timestamp())
        world.reclaim(instance_id, notice_seconds=60)
        body = await get(client, instance_id)
        assert body["spotStatus"] == "notified"
        assert body["status"] == "running"
        assert body["spotReclaimTime"] == str(now + 60)
        clock.advance(60)
        body = await get(client, instance_id)
        assert body["spotStatus"] == "reclaiming"
        clock.advance(0.5)
        body = await get(client, instance_id)
        assert body["spotStatus"] == "terminated"
        assert body["status"] == "exited"
        assert body["spotReclaimTime"] == str(now + 60)
        assert body["lastStoppedAt"] == str(now + 60)
        assert world.capacity.free("4090.18c60g", "as-sgp-2") == 16

    async def test_only_running_spot_instances(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        on_demand = await running(client, clock)
        with pytest.raises(EmulatorError):
            world.reclaim(on_demand)

    async def test_default_notice_and_user_stop_cancels(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await running(client, clock, billingMode="spot")
        world.reclaim(instance_id)
        await client.post("/gpu/instance/stop", json={"instanceId": instance_id})
        clock.advance(200)
        body = await get(client, instance_id)
        assert body["status"] == "exited"
        assert body["spotStatus"] == "running"

    async def test_random_reclaims_at_a_configured_rate(self, clock: ManualClock) -> None:
        config = EmulatorConfig(random_seed=3, random_reclaim_rate_per_hour=60)
        app = create_emulator_app(config, clock=clock)
        transport = emulator_transport(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://e/v1", headers=AUTH
        ) as c:
            instance_id = await create(c, billingMode="spot")
            clock.advance(3600)
            body = await get(c, instance_id)
        assert body["spotStatus"] == "terminated"
        assert body["status"] == "exited"


class TestMigration:
    async def _reclaimed(self, client: httpx.AsyncClient, clock: ManualClock, world: World) -> str:
        instance_id = await running(client, clock, billingMode="spot")
        world.reclaim(instance_id, notice_seconds=0)
        clock.advance(1)
        assert await status_of(client, instance_id) == "exited"
        return instance_id

    async def test_success_moves_to_another_cluster_with_new_endpoints(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await self._reclaimed(client, clock, world)
        before = await get(client, instance_id)
        response = await client.post("/gpu/instance/migrate", json={"instanceId": instance_id})
        job_id = response.json()["jobId"]
        assert response.json()["instanceId"] == instance_id
        assert await status_of(client, instance_id) == "migrating"
        jobs = (await client.get("/jobs", params={"type": "instanceMigrate"})).json()
        assert jobs["total"] == 1
        [job] = jobs["jobs"]
        assert job["Id"] == job_id
        assert job["instanceId"] == instance_id
        assert job["state"] == {"state": "pulling", "error": "", "errorMessage": "", "message": ""}
        assert job["createdAt"].isdigit()
        clock.advance(1)
        assert (await client.get("/jobs")).json()["jobs"][0]["state"]["state"] == "running"
        clock.advance(1)
        after = await get(client, instance_id)
        assert (await client.get("/jobs")).json()["jobs"][0]["state"]["state"] == "success"
        assert after["status"] == "running"
        assert after["clusterId"] == "cn-hongkong-1"  # cheapest spot 4090 elsewhere
        assert after["productName"] == before["productName"]
        assert after["portMappings"][0]["endpoint"] != before["portMappings"][0]["endpoint"]
        assert after["connectComponentSSH"]["sshCommand"].startswith(
            "ssh root@proxy.cn-hongkong-1."
        )
        assert after["spotStatus"] == "running"
        assert after["spotReclaimTime"] == "0"

    async def test_failure_returns_to_exited_and_job_fails(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await self._reclaimed(client, clock, world)
        response = await admin.put("/jobs/migrate-outcome", json={"outcome": "fail"})
        assert response.json() == {"outcome": "fail"}
        await client.post("/gpu/instance/migrate", json={"instanceId": instance_id})
        clock.advance(2)
        assert await status_of(client, instance_id) == "exited"
        [job] = (await client.get("/jobs", params={"state": "fail"})).json()["jobs"]
        assert job["state"]["error"]
        assert job["state"]["errorMessage"]
        assert world.capacity.free("4090.16c46g", "cn-hongkong-1") == 8

    async def test_no_capacity_anywhere(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await self._reclaimed(client, clock, world)
        for product_id, cluster_id in [
            ("4090.16c62g", "us-ca-6"),
            ("4090.18c60g", "as-sgp-2"),
            ("4090.16c46g", "cn-hongkong-1"),
            ("4090.12c48g", "eu-de-1"),
        ]:
            world.set_capacity(product_id, cluster_id, 0)
        response = await client.post("/gpu/instance/migrate", json={"instanceId": instance_id})
        assert response.status_code == 400
        assert response.json()["reason"] == "MIGRATE_INSUFFICIENT_RESOURCE"

    async def test_break_job(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await self._reclaimed(client, clock, world)
        job_id = (
            await client.post("/gpu/instance/migrate", json={"instanceId": instance_id})
        ).json()["jobId"]
        response = await client.post("/job/break", json={"jobId": job_id})
        assert response.json() == {"jobId": job_id}
        assert await status_of(client, instance_id) == "exited"
        again = await client.post("/job/break", json={"jobId": job_id})
        assert again.json()["reason"] == "MIGRATION_JOB_NOT_BREAKABLE"
        unknown = await client.post("/job/break", json={"jobId": "nope"})
        assert unknown.json()["reason"] == "JOB_NOT_FOUND"
        clock.advance(10)
        assert (await client.get("/jobs")).json()["jobs"][0]["state"]["state"] == "break"


class TestFailuresAndVanishing:
    async def test_fail_sets_status_error_and_exits(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await create(client)
        clock.advance(0.3)
        response = await admin.post(f"/instances/{instance_id}/fail", json={"message": "OOM"})
        assert response.json() == {"instanceId": instance_id, "status": "exited"}
        clock.advance(10)
        body = await get(client, instance_id)
        assert body["status"] == "exited"
        assert body["statusError"] == {"state": "creating", "message": "OOM"}
        await client.post("/gpu/instance/start", json={"instanceId": instance_id})
        assert "statusError" not in await get(client, instance_id)

    async def test_vanish(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await running(client, clock)
        assert (await admin.post(f"/instances/{instance_id}/vanish")).json() == {"ok": True}
        response = await client.get("/gpu/instance", params={"instanceId": instance_id})
        assert response.json()["reason"] == "RESOURCE_NOT_FOUND"
        assert (await client.get("/gpu/instances")).json()["total"] == 0
