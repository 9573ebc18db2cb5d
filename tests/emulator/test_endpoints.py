"""Port endpoints reached in-process: the placeholder host works through emulator_transport."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import EmulatorConfig, World, create_emulator_app, emulator_transport
from novita_gpu.emulator.serialize import IN_PROCESS_BASE
from tests.emulator.helpers import create, get


async def test_in_process_endpoint_lifecycle(
    app: Starlette, client: httpx.AsyncClient, clock: ManualClock, world: World
) -> None:
    instance_id = await create(client)
    endpoint = (await get(client, instance_id))["portMappings"][0]["endpoint"]
    assert endpoint.startswith(IN_PROCESS_BASE)
    async with httpx.AsyncClient(transport=emulator_transport(app)) as probe:
        assert (await probe.get(endpoint)).status_code == 502
        clock.advance(1.7)
        assert (await probe.get(endpoint)).status_code == 502
        clock.advance(1)
        assert (await probe.get(endpoint)).status_code == 200
        world.set_app(instance_id, healthy=False)
        assert (await probe.get(endpoint)).status_code == 502
        world.set_app(instance_id, healthy=True)
        assert (await probe.get(endpoint + "/")).status_code == 200
        assert (await probe.head(endpoint)).status_code == 200


async def test_terminal_and_logs(
    app: Starlette, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    instance_id = await create(client)
    body = await get(client, instance_id)
    terminal = body["connectComponentWebTerminal"]["address"]
    logs = body["connectComponentLog"]["instanceLogAddress"]
    async with httpx.AsyncClient(transport=emulator_transport(app)) as probe:
        assert (await probe.get(terminal)).status_code == 502
        clock.advance(5)
        assert (await probe.get(terminal)).status_code == 200
        text = (await probe.get(logs)).text
        assert [line.split()[-1] for line in text.splitlines()] == [
            "toCreate",
            "creating",
            "pulling",
            "running",
        ]
        assert (await probe.get(logs.replace("/instance", "/kernel"))).status_code == 404


async def test_unknown_instance_and_wrong_cluster_are_404(
    app: Starlette, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    instance_id = await create(client)
    clock.advance(5)
    endpoint = (await get(client, instance_id))["portMappings"][0]["endpoint"]
    async with httpx.AsyncClient(transport=emulator_transport(app)) as probe:
        assert (await probe.get(endpoint.replace("as-sgp-2", "us-ca-6"))).status_code == 404
        assert (await probe.get(endpoint.replace(instance_id, "0" * 16))).status_code == 404


async def test_empty_world_has_clusters_only(clock: ManualClock) -> None:
    app = create_emulator_app(EmulatorConfig(seed_default_world=False), clock=clock)
    headers = {"Authorization": "Bearer k"}
    async with httpx.AsyncClient(
        transport=emulator_transport(app), base_url="http://e/v1", headers=headers
    ) as c:
        assert len((await c.get("/clusters")).json()["data"]) == 8
        assert (await c.get("/products")).json() == {"data": []}
        assert (await c.get("/repository/auths")).json() == {"data": []}
