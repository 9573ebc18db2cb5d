"""EmulatorServer on a real loopback port: endpoints, faults over real sockets, prefixes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import EmulatorConfig, EmulatorServer
from tests.emulator.conftest import AUTH
from tests.emulator.helpers import create, create_body, get


@pytest.fixture
async def server(clock: ManualClock) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(EmulatorConfig(random_seed=1), clock=clock) as server:
        yield server


@pytest.fixture
async def api(server: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{server.api_url}/v1", headers=AUTH, timeout=5) as c:
        yield c


class TestServer:
    async def test_urls(self, server: EmulatorServer) -> None:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.api_url == f"{server.base_url}/gpu-instance/openapi"
        assert server.config.endpoint_base_url == server.base_url

    async def test_endpoints_answer_502_then_200(
        self, server: EmulatorServer, api: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await create(api)
        clock.advance(1.7)
        body = await get(api, instance_id)
        assert body["status"] == "running"
        http, tcp = body["portMappings"]
        assert http["endpoint"].startswith(server.base_url)
        async with httpx.AsyncClient() as probe:
            booting = await probe.get(http["endpoint"])
            assert booting.status_code == 502
            assert "502 Bad Gateway" in booting.text
            clock.advance(1)
            ready = await probe.get(http["endpoint"])
            assert ready.status_code == 200
            assert (await probe.get(http["endpoint"] + "/lab?x=1")).status_code == 200
            await api.post("/gpu/instance/stop", json={"instanceId": instance_id})
            assert (await probe.get(http["endpoint"])).status_code == 502
            unmapped = http["endpoint"].rsplit("/", 1)[0] + "/9999"
            assert (await probe.get(unmapped)).status_code == 404
        assert tcp["endpoint"] == f"127.0.0.1:{server.port}"

    async def test_tcp_endpoint_accepts_connections(
        self, api: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await create(api)
        clock.advance(5)
        host, port = (await get(api, instance_id))["portMappings"][1]["endpoint"].split(":")
        _, writer = await asyncio.open_connection(host, int(port))
        writer.close()
        await writer.wait_closed()

    async def test_bare_v1_prefix(self, server: EmulatorServer) -> None:
        async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as c:
            assert (await c.get("/v1/clusters")).status_code == 200


class TestFaultsOverRealHttp:
    async def test_drop(self, server: EmulatorServer, api: httpx.AsyncClient) -> None:
        server.world.add_fault("drop", "/gpu/instances", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            await api.get("/gpu/instances")
        assert (await api.get("/gpu/instances")).status_code == 200

    async def test_lost_response(self, server: EmulatorServer, api: httpx.AsyncClient) -> None:
        server.world.add_fault("lost_response", "/gpu/instance/create", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            await api.post("/gpu/instance/create", json=create_body(name="lost"))
        assert (await api.get("/gpu/instances", params={"name": "lost"})).json()["total"] == 1

    async def test_timeout(self, server: EmulatorServer, api: httpx.AsyncClient) -> None:
        server.world.add_fault("timeout", count=1)
        with pytest.raises(httpx.ReadTimeout):
            await api.get("/clusters", timeout=0.2)
        assert (await api.get("/clusters")).status_code == 200

    async def test_rate_limit(self, server: EmulatorServer, api: httpx.AsyncClient) -> None:
        server.world.add_fault("rate_limit", retry_after=2, count=1)
        response = await api.get("/clusters")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"

    async def test_admin_over_http(self, server: EmulatorServer) -> None:
        async with httpx.AsyncClient(base_url=f"{server.base_url}/_emulator") as admin:
            fault = await admin.post("/faults", json={"kind": "error", "status": 500})
            assert fault.json()["id"]
            assert (await admin.get("/state")).json()["faults"] == 1


async def test_start_fails_on_a_taken_port(server: EmulatorServer) -> None:
    with pytest.raises(OSError, match="in use"):
        await EmulatorServer(port=server.port).start()
