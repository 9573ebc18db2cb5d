"""The admin API under /_emulator/."""

from __future__ import annotations

import httpx

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import World
from tests.emulator.helpers import create, running, status_of


class TestStateClockReset:
    async def test_state_summary(self, client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        instance_id = await create(client)
        state = (await admin.get("/state")).json()
        assert [i["id"] for i in state["instances"]] == [instance_id]
        assert state["instances"][0]["status"] == "toCreate"
        assert {"now", "unixTime", "capacity", "faults", "requests", "config", "jobs"} <= set(state)

    async def test_clock_advance(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await create(client)
        response = await admin.post("/clock/advance", json={"seconds": 5})
        assert response.json()["unixTime"] == int(clock.now().timestamp())
        assert await status_of(client, instance_id) == "running"
        bad = await admin.post("/clock/advance", json={"seconds": -1})
        assert bad.status_code == 400
        assert bad.json()["reason"] == "VALIDATOR_PARAM"

    def test_clock_advance_offsets_a_system_clock(self) -> None:
        world = World()
        before = world.now()
        world.advance(3600)
        assert world.now() - before >= 3600

    async def test_reset(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, world: World
    ) -> None:
        await create(client)
        world.add_fault("error", "/nothing")
        assert (await admin.post("/reset")).json() == {"ok": True}
        assert (await client.get("/gpu/instances")).json()["total"] == 0
        assert world.faults.rules() == []
        assert world.request_counts() == {"GET /gpu/instances": 1}


class TestCatalogAdmin:
    async def test_upsert_products_and_capacity(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        product = {
            "id": "l40s.16c64g",
            "name": "L40S 48GB",
            "cpuPerGpu": 16,
            "memoryPerGpu": 64,
            "clusterIds": ["eu-de-1"],
            "price": 90000,
            "spotPrice": 45000,
            "capacity": 1,
        }
        response = await admin.post("/products", json={"products": [product]})
        assert response.json() == {"ids": ["l40s.16c64g"]}
        [listed] = (await client.get("/products", params={"productName": "L40S"})).json()["data"]
        assert listed["regions"] == ["EU-DE-01 (Germany)"]
        assert listed["spotPrice"] == "45000"
        body = {"productId": "l40s.16c64g", "clusterId": "eu-de-1", "available": 0}
        assert (await admin.put("/capacity", json=body)).json() == body
        [listed] = (await client.get("/products", params={"productName": "L40S"})).json()["data"]
        assert listed["availableDeploy"] is False
        wrong = await admin.put("/capacity", json={**body, "clusterId": "us-ca-6"})
        assert wrong.status_code == 400

    async def test_product_with_unknown_cluster(self, admin: httpx.AsyncClient) -> None:
        product = {"id": "x", "name": "X", "cpuPerGpu": 1, "memoryPerGpu": 1, "price": 1}
        response = await admin.post("/products", json=[{**product, "clusterIds": ["mars-1"]}])
        assert response.status_code == 400

    async def test_templates_and_registry_auths(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient
    ) -> None:
        template = {
            "Id": "999",
            "name": "mine",
            "channel": "private",
            "image": "me/img:1",
            "ports": [{"type": "http", "ports": [7860]}],
        }
        assert (await admin.post("/templates", json=[template])).json() == {"ids": ["999"]}
        got = (await client.get("/template", params={"templateId": "999"})).json()["template"]
        assert got["ports"] == [{"type": "http", "ports": [7860]}]
        auth = {"id": "a" * 32, "name": "n", "username": "u", "password": "p"}
        no_id = {"name": "m", "username": "u", "password": "p"}
        ids = (await admin.post("/registry-auths", json=[auth, no_id])).json()["ids"]
        assert ids[0] == "a" * 32
        assert len(ids[1]) == 32


class TestInstanceAdmin:
    async def test_app_unhealthy_then_healthy(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        instance_id = await running(client, clock)
        response = await admin.post(f"/instances/{instance_id}/app", json={"healthy": False})
        assert response.json() == {"instanceId": instance_id, "healthy": False}
        assert not world.app_is_up(world.instance(instance_id))
        await admin.post(f"/instances/{instance_id}/app", json={"healthy": True, "bootSeconds": 60})
        assert not world.app_is_up(world.instance(instance_id))
        clock.advance(60)
        assert world.app_is_up(world.instance(instance_id))

    async def test_reclaim_over_http(
        self, client: httpx.AsyncClient, admin: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await running(client, clock, billingMode="spot")
        response = await admin.post(f"/instances/{instance_id}/reclaim", json={"noticeSeconds": 30})
        assert int(response.json()["spotReclaimTime"]) == int(clock.now().timestamp()) + 30

    async def test_unknown_instance(self, admin: httpx.AsyncClient) -> None:
        response = await admin.post("/instances/nope/vanish")
        assert response.status_code == 400
        assert response.json()["reason"] == "RESOURCE_NOT_FOUND"

    async def test_bad_migrate_outcome(self, admin: httpx.AsyncClient) -> None:
        response = await admin.put("/jobs/migrate-outcome", json={"outcome": "maybe"})
        assert response.status_code == 400


class TestFaultAndRequestAdmin:
    async def test_fault_crud(self, client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        created = await admin.post(
            "/faults", json={"kind": "rate_limit", "path": "/clusters", "retryAfter": 3}
        )
        fault_id = created.json()["id"]
        [listed] = (await admin.get("/faults")).json()["faults"]
        assert listed["id"] == fault_id
        assert listed["retryAfter"] == 3
        assert (await client.get("/clusters")).status_code == 429
        assert (await admin.delete(f"/faults/{fault_id}")).json() == {"ok": True}
        assert (await admin.delete(f"/faults/{fault_id}")).status_code == 404
        await admin.post("/faults", json={"kind": "error"})
        await admin.post("/faults", json={"kind": "error"})
        assert (await admin.delete("/faults")).json() == {"ok": True}
        assert (await admin.get("/faults")).json() == {"faults": []}
        bad = await admin.post("/faults", json={"kind": "nope"})
        assert bad.status_code == 400

    async def test_requests(self, client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
        await client.get("/clusters")
        await client.get("/clusters")
        assert (await admin.get("/requests")).json() == {"counts": {"GET /clusters": 2}, "total": 2}
        await admin.post("/requests/reset")
        assert (await admin.get("/requests")).json() == {"counts": {}, "total": 0}
