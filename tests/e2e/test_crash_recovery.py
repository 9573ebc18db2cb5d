"""Crash tests: ``kill -9`` the server at the worst moments, start it again on the same
database, and check that every instance reaches its right state and none is created twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World
from tests.support.processes import ServerProcess, server_env
from tests.support.receiver import Receiver, status

pytestmark = pytest.mark.slow


@dataclass
class CrashStack:
    emulator: EmulatorServer
    server: ServerProcess
    client: httpx.AsyncClient

    @property
    def world(self) -> World:
        return self.emulator.world

    async def restart(self) -> None:
        self.server.kill()
        await self.server.start()

    async def wait_status(
        self, instance_id: str, status: str, timeout: float = 45
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            response = await self.client.get(
                f"{self.server.url}/api/instances/{instance_id}",
                params={"waitFor": status, "timeout": 5},
            )
            body: dict[str, Any] = response.json()
            if body.get("status") == status:
                return body
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{instance_id} is {body.get('status')}, not {status}: {body}")


@contextlib.asynccontextmanager
async def crash_stack(tmp_path: Path, preset: str = "fast") -> AsyncIterator[CrashStack]:
    async with EmulatorServer(EmulatorConfig.preset(preset)) as emulator:  # type: ignore[arg-type]
        env = server_env(f"sqlite:///{tmp_path / 'crash.db'}")
        server = ServerProcess(emulator.base_url, env, tmp_path / "server.log")
        await server.start()
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                yield CrashStack(emulator, server, client)
        finally:
            server.stop()


LIFECYCLE = [
    "instance.created", "instance.running", "instance.health_checking", "instance.ready",
]  # fmt: skip


def body(name: str) -> dict[str, Any]:
    return {"name": name, "productName": "RTX 4090 24GB", "templateId": "pytorch-jupyter"}


def upstream_named(world: World, name: str) -> list[Any]:
    return [i for i in world.instances() if i.name == name and i.status.value != "removed"]


async def test_killed_while_instances_boot(tmp_path: Path) -> None:
    async with crash_stack(tmp_path) as stack:
        created = []
        for index in range(5):
            response = await stack.client.post(
                f"{stack.server.url}/api/instances", json=body(f"boot-{index}")
            )
            assert response.status_code == 201
            created.append(response.json())
        await stack.restart()
        for item in created:
            ready = await stack.wait_status(item["instanceId"], "ready")
            assert ready["novitaInstanceId"] == item["novitaInstanceId"]
        for index in range(5):
            assert len(upstream_named(stack.world, f"boot-{index}")) == 1
        events = (
            await stack.client.get(
                f"{stack.server.url}/api/instances/{created[0]['instanceId']}/events"
            )
        ).json()
        types = [event["type"] for event in events["events"]]
        assert types == [
            "instance.created",
            "instance.running",
            "instance.health_checking",
            "instance.ready",
        ]


async def test_killed_while_the_receiver_is_down_delivers_everything_after_restart(
    tmp_path: Path,
) -> None:
    receiver = await Receiver().start()
    try:
        async with crash_stack(tmp_path) as stack:
            receiver.script(*[status(503)] * 1000)  # down: every delivery fails and is retried
            payload = {**body("hooked"), "webhookUrl": receiver.url}
            created = (
                await stack.client.post(f"{stack.server.url}/api/instances", json=payload)
            ).json()
            await stack.wait_status(created["instanceId"], "ready")
            await receiver.wait_for(1, timeout=30)
            stack.server.kill()
            ids_before = {r.headers["webhook-id"] for r in receiver.requests}
            receiver.clear_script()  # the receiver is back
            await stack.server.start()
            await receiver.wait_until(
                lambda: delivered_types(receiver) >= set(LIFECYCLE), timeout=60
            )
        by_event: dict[str, set[str]] = {}
        for request in receiver.requests:
            event_id = json.loads(request.body)["id"]
            by_event.setdefault(event_id, set()).add(request.headers["webhook-id"])
        assert all(len(ids) == 1 for ids in by_event.values()), "webhook-id changed on a retry"
        assert ids_before <= {i for ids in by_event.values() for i in ids}
        assert ordered_successes(receiver) == LIFECYCLE
    finally:
        await receiver.close()


def delivered_types(receiver: Receiver) -> set[str]:
    return set(ordered_successes(receiver))


def ordered_successes(receiver: Receiver) -> list[str]:
    """Event types in the order the receiver accepted them (first acceptance of each)."""
    seen: list[str] = []
    for request in receiver.accepted:
        event = json.loads(request.body)["event"]
        if event not in seen:
            seen.append(event)
    return seen


async def test_killed_between_upstream_create_and_local_commit(tmp_path: Path) -> None:
    async with crash_stack(tmp_path) as stack:
        stack.world.add_fault("slow_response", "/gpu/instance/create", count=1, hang_seconds=60)
        headers = {"Idempotency-Key": "crash-create"}
        request = asyncio.create_task(
            stack.client.post(
                f"{stack.server.url}/api/instances", json=body("cut"), headers=headers
            )
        )
        while not upstream_named(stack.world, "cut"):  # noqa: ASYNC110 - polls another server
            await asyncio.sleep(0.02)
        await stack.restart()  # the create happened upstream; our answer never arrived
        with contextlib.suppress(httpx.HTTPError):
            await request
        retry = await stack.client.post(
            f"{stack.server.url}/api/instances", json=body("cut"), headers=headers
        )
        assert retry.status_code == 201
        instance_id = retry.json()["instanceId"]
        ready = await stack.wait_status(instance_id, "ready")
        assert [i.id for i in upstream_named(stack.world, "cut")] == [ready["novitaInstanceId"]]
        listing = (await stack.client.get(f"{stack.server.url}/api/instances")).json()
        assert listing["total"] == 1
        assert stack.world.request_counts()["POST /gpu/instance/create"] == 1
