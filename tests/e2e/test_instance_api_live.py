"""The instance API end to end: the service and the emulator on loopback ports, real HTTP
between them, and the reconciler running on the real clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path) as stack:
        yield stack


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
        **overrides,
    }


async def create(live: LiveStack, name: str, **overrides: Any) -> dict[str, Any]:
    response = await live.client.post("/api/instances", json=body(name, **overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def upstream_live(live: LiveStack, name: str) -> list[Any]:
    return [i for i in live.world.instances() if i.name == name and i.status.value != "removed"]


async def admin(live: LiveStack, method: str, path: str, json: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=live.emulator.base_url) as client:
        response = await client.request(method, f"/_emulator{path}", json=json)
        response.raise_for_status()
        return response.json()


async def test_create_falls_back_and_reaches_ready_with_working_endpoints(live: LiveStack) -> None:
    await admin(
        live,
        "PUT",
        "/capacity",
        {"productId": "4090.16c46g", "clusterId": "cn-hongkong-1", "available": 0},
    )
    created = await create(live, "fallback", region="CN-HK-01")
    assert created["region"] == "US-CA-06"
    ready = await live.wait_status(created["instanceId"], "ready")
    assert ready["healthCheck"]["status"] == "healthy"
    endpoint = ready["connectionDetails"]["endpoints"]["8888"]
    async with httpx.AsyncClient() as client:
        assert (await client.get(endpoint)).status_code == 200
    assert ready["connectionDetails"]["ssh"].startswith("ssh ")


async def test_idempotent_retry_creates_once(live: LiveStack) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    first = await live.client.post("/api/instances", json=body("idem"), headers=headers)
    second = await live.client.post("/api/instances", json=body("idem"), headers=headers)
    assert second.json()["instanceId"] == first.json()["instanceId"]
    assert len(upstream_live(live, "idem")) == 1


async def test_lost_create_response_is_resolved_by_name(live: LiveStack) -> None:
    await admin(
        live,
        "POST",
        "/faults",
        {"path": "/gpu/instance/create", "kind": "lost_response", "count": 1},
    )
    created = await create(live, "lost")
    await live.wait_status(created["instanceId"], "ready")
    instance = (await live.client.get(f"/api/instances/{created['instanceId']}")).json()
    assert instance["novitaInstanceId"] == upstream_live(live, "lost")[0].id
    assert len(upstream_live(live, "lost")) == 1


async def test_lifecycle_by_id_and_by_name_with_conflicts(live: LiveStack) -> None:
    created = await create(live, "cycle")
    instance_id = created["instanceId"]
    await live.wait_status(instance_id, "ready")
    taken = await live.client.post("/api/instances", json=body("cycle"))
    assert taken.json()["error"]["code"] == "NAME_TAKEN"

    assert (await live.client.post(f"/api/instances/{instance_id}/stop")).status_code == 202
    busy = await live.client.post(f"/api/instances/{instance_id}/start")
    assert busy.status_code in {202, 409}  # 409 while stopping, 202 if it already stopped
    await live.wait_status(instance_id, "stopped")
    again = await live.client.post("/api/instances/stop", json={"instanceName": "cycle"})
    assert again.json()["status"] == "stopped"

    assert (
        await live.client.post("/api/instances/start", json={"instanceName": "cycle"})
    ).status_code == 202
    await live.wait_status(instance_id, "ready")

    future = {"lastUsedAt": "2999-01-01T00:00:00Z"}
    assert (
        await live.client.put(f"/api/instances/{instance_id}/last-used", json=future)
    ).status_code == 400
    assert (
        await live.client.put("/api/instances/last-used", json={"instanceName": "cycle"})
    ).status_code == 200

    assert (
        await live.client.post("/api/instances/delete", json={"instanceName": "cycle"})
    ).status_code == 202
    await live.wait_status(instance_id, "deleted")
    not_startable = await live.client.post(f"/api/instances/{instance_id}/start")
    assert not_startable.json()["error"]["code"] == "INSTANCE_NOT_STARTABLE"
    not_stoppable = await live.client.post(f"/api/instances/{instance_id}/stop")
    assert not_stoppable.json()["error"]["code"] == "INSTANCE_NOT_STOPPABLE"
    assert upstream_live(live, "cycle") == []


async def test_adopt_comprehensive_and_stop_all(live: LiveStack) -> None:
    managed = await create(live, "managed")
    outsider = live.world.create_instance(
        {
            "name": "outsider",
            "productId": "4090.16c62g",
            "gpuNum": 1,
            "rootfsSize": 60,
            "imageUrl": "busybox",
            "kind": "gpu",
            "clusterId": "us-ca-6",
        }
    )
    merged = (await live.client.get("/api/instances/comprehensive")).json()
    sources = {item["novitaInstanceId"]: item["source"] for item in merged["instances"]}
    assert sources[outsider.id] == "upstream"
    assert sources[managed["novitaInstanceId"]] == "managed"

    adopted = await live.client.post("/api/instances/adopt", json={"novitaInstanceId": outsider.id})
    assert adopted.status_code == 201
    await live.wait_status(managed["instanceId"], "ready")
    await live.wait_status(adopted.json()["id"], "ready")

    stopped = await live.client.post("/api/instances/stop-all")
    assert stopped.json()["stopped"] == 2
    await live.wait_status(managed["instanceId"], "stopped")
    await live.wait_status(adopted.json()["id"], "stopped")
