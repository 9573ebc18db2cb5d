"""Two server processes on one PostgreSQL database: 50 instances created, stopped and then
started at once through both, and every transition and webhook happens exactly once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import POSTGRES_URL
from tests.support.processes import ServerProcess
from tests.support.receiver import Receiver
from tests.support.replicas import replicas

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)"),
]

INSTANCES = 50
EXPECTED = [
    "instance.created", "instance.running", "instance.health_checking", "instance.ready",
    "instance.stopping", "instance.stopped",
    "instance.starting", "instance.running", "instance.health_checking", "instance.ready",
]  # fmt: skip


async def wait_all(client: httpx.AsyncClient, url: str, ids: list[str], status: str) -> None:
    async def one(instance_id: str) -> None:
        for _ in range(20):
            response = await client.get(
                f"{url}/api/instances/{instance_id}", params={"waitFor": status, "timeout": 10}
            )
            if response.json()["status"] == status:
                return
        raise AssertionError(f"{instance_id} never reached {status}")

    await asyncio.gather(*(one(i) for i in ids))


def body(index: int, webhook: str) -> dict[str, Any]:
    return {
        "name": f"replica-{index:02d}",
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
        "webhookUrl": webhook,
        "billingMode": "onDemand",
    }


async def test_two_replicas_produce_each_event_once(tmp_path: Path) -> None:
    # Exactly once needs every lease to outlive the attempt it covers: a long lease keeps a
    # starved CI machine from turning a slow renewal into a takeover (and a second send).
    async with replicas(tmp_path, INSTANCES, WEBHOOK_LEASE_SECONDS="60") as stage:
        await exercise(stage.servers, stage.receiver)


async def exercise(servers: list[ServerProcess], receiver: Receiver) -> None:
    urls = [server.url for server in servers]
    async with httpx.AsyncClient(timeout=60) as client:
        created = await asyncio.gather(*(
            client.post(f"{urls[i % 2]}/api/instances", json=body(i, receiver.url))
            for i in range(INSTANCES)
        ))  # fmt: skip
        assert {response.status_code for response in created} == {201}
        ids = [response.json()["instanceId"] for response in created]
        await wait_all(client, urls[0], ids, "ready")

        assert (await client.post(f"{urls[0]}/api/instances/stop-all")).status_code == 202
        await wait_all(client, urls[1], ids, "stopped")
        started = await asyncio.gather(*(
            client.post(f"{urls[i % 2]}/api/instances/{instance_id}/start")
            for i, instance_id in enumerate(ids)
        ))  # fmt: skip
        assert {response.status_code for response in started} == {202}
        await wait_all(client, urls[0], ids, "ready")

        for instance_id in ids:
            events = (await client.get(f"{urls[1]}/api/instances/{instance_id}/events")).json()
            assert [e["type"] for e in events["events"]] == EXPECTED, instance_id
    await receiver.wait_until(lambda: len(receiver.accepted) >= INSTANCES * len(EXPECTED), 60)
    await asyncio.sleep(1)  # anything duplicated would arrive now
    deliveries = Counter(json.loads(r.body)["id"] for r in receiver.accepted)
    assert len(deliveries) == INSTANCES * len(EXPECTED)
    assert set(deliveries.values()) == {1}, "an event was delivered twice"
