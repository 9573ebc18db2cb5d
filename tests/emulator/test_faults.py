"""Every fault kind in-process (through emulator_transport), plus matching and counting."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import ValidationError

from novita_gpu.emulator import EmulatorConfig, FaultKind, World, create_emulator_app
from novita_gpu.emulator.faults import FaultBook, FaultRule
from tests.emulator.helpers import create, create_body


class TestKinds:
    async def test_error_defaults_to_503_unknown(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("error", "/gpu/instances")
        response = await client.get("/gpu/instances")
        assert response.status_code == 503
        assert response.json() == {
            "code": 503,
            "reason": "UNKNOWN",
            "message": "injected fault",
            "metadata": {},
        }

    async def test_error_with_status_and_reason(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault(
            FaultKind.ERROR, "/gpu/instance/create", status=400, reason="CLUSTER_STATUS"
        )
        response = await client.post("/gpu/instance/create", json=create_body())
        assert response.status_code == 400
        assert response.json()["reason"] == "CLUSTER_STATUS"
        assert (await client.get("/gpu/instances")).json()["total"] == 0

    async def test_slow_response_acts_then_answers_late(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("slow_response", "/gpu/instance/create", hang_seconds=0.2)
        started = time.monotonic()
        response = await client.post("/gpu/instance/create", json=create_body())
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.2
        assert len(world.instances()) == 1

    async def test_slow_response_past_the_timeout_still_acted(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("slow_response", "/gpu/instance/create", hang_seconds=5)
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/gpu/instance/create", json=create_body(), timeout=0.2)
        assert len(world.instances()) == 1

    async def test_rate_limit(self, client: httpx.AsyncClient, world: World) -> None:
        world.add_fault("rate_limit", retry_after=7)
        response = await client.get("/clusters")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.json()["reason"] == "RATE_LIMIT_EXCEEDED"

    async def test_latency_is_real_time_then_normal(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("latency", "/clusters", latency_ms=100)
        started = time.monotonic()
        response = await client.get("/clusters")
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.1

    async def test_latency_beyond_the_read_timeout(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("latency", latency_ms=500)
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/clusters", timeout=0.05)

    async def test_timeout_hangs_until_the_callers_timeout(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("timeout", "/gpu/instances", count=1)
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/gpu/instances", timeout=0.05)
        assert (await client.get("/gpu/instances")).status_code == 200

    async def test_timeout_gives_up_with_504_after_hang_seconds(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("timeout", hang_seconds=0.05)
        response = await client.get("/clusters", timeout=None)
        assert response.status_code == 504

    async def test_drop_does_nothing_and_breaks_the_connection(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("drop", "/gpu/instance/create", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/gpu/instance/create", json=create_body())
        assert (await client.get("/gpu/instances")).json()["total"] == 0

    async def test_lost_response_does_the_operation(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("lost_response", "/gpu/instance/create", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/gpu/instance/create", json=create_body(name="ghost"))
        listed = (await client.get("/gpu/instances", params={"name": "ghost"})).json()
        assert listed["total"] == 1


class TestMatching:
    async def test_count_then_gone(self, client: httpx.AsyncClient, world: World) -> None:
        world.add_fault("error", "/clusters", count=2)
        codes = [(await client.get("/clusters")).status_code for _ in range(3)]
        assert codes == [503, 503, 200]
        assert world.faults.rules() == []

    async def test_method_and_prefixed_path(self, client: httpx.AsyncClient, world: World) -> None:
        world.add_fault("error", "/gpu-instance/openapi/v1/gpu/instance/stop", method="post")
        instance_id = await create(client)
        assert (await client.get("/gpu/instance", params={"instanceId": instance_id})).is_success
        stop = await client.post("/gpu/instance/stop", json={"instanceId": instance_id})
        assert stop.status_code == 503

    async def test_admin_and_endpoints_are_never_faulted(
        self, admin: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("error")
        assert (await admin.get("/state")).status_code == 200

    async def test_latency_combines_with_one_other_rule(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.add_fault("latency", latency_ms=10)
        world.add_fault("error", status=502)
        world.add_fault("rate_limit")
        assert (await client.get("/clusters")).status_code == 502
        hits = {rule.kind: rule.hits for rule in world.faults.rules()}
        assert hits == {FaultKind.LATENCY: 1, FaultKind.ERROR: 1, FaultKind.RATE_LIMIT: 0}

    def test_rate_is_deterministic_with_a_seed(self) -> None:
        def pattern() -> list[bool]:
            book = FaultBook(seed=42)
            book.add(FaultRule(kind=FaultKind.ERROR, rate=0.5))
            return [book.draw("GET", "/clusters").rule is not None for _ in range(40)]

        first = pattern()
        assert first == pattern()
        assert 5 < sum(first) < 35

    def test_world_rate_uses_the_config_seed(self) -> None:
        def pattern() -> list[bool]:
            world = create_emulator_app(EmulatorConfig(random_seed=5)).state.world
            world.add_fault("error", rate=0.3)
            return [world.faults.draw("GET", "/x").rule is not None for _ in range(30)]

        assert pattern() == pattern()

    def test_invalid_rules_are_rejected(self, world: World) -> None:
        with pytest.raises(ValidationError):
            world.add_fault("explode")
        with pytest.raises(ValidationError):
            world.add_fault("error", rate=1.5)


class TestRequestCounts:
    async def test_counts_per_method_and_path_including_failures(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await client.get("/clusters")
        await client.get("http://emulator.test/v1/clusters")
        await client.get("/gpu/instances", headers={"Authorization": ""})
        world.add_fault("drop", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/gpu/instance/create", json=create_body())
        assert world.request_counts() == {
            "GET /clusters": 2,
            "GET /gpu/instances": 1,
            "POST /gpu/instance/create": 1,
        }
        world.reset_request_counts()
        assert world.request_counts() == {}
