"""Helpers for emulator tests: bodies and shortcuts over the upstream API."""

from __future__ import annotations

from typing import Any

import httpx

from novita_gpu.core.clock import ManualClock


def create_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body for the default world's cheapest on-demand 4090."""
    body: dict[str, Any] = {
        "name": "job-1",
        "productId": "4090.18c60g",
        "gpuNum": 1,
        "rootfsSize": 60,
        "imageUrl": "pytorch/pytorch:latest",
        "ports": "8888/http,22/tcp",
        "kind": "gpu",
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, **overrides: Any) -> str:
    """Create an instance and return its id (asserts success)."""
    response = await client.post("/gpu/instance/create", json=create_body(**overrides))
    assert response.status_code == 200, response.text
    instance_id: str = response.json()["id"]
    return instance_id


async def get(client: httpx.AsyncClient, instance_id: str) -> dict[str, Any]:
    response = await client.get("/gpu/instance", params={"instanceId": instance_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def status_of(client: httpx.AsyncClient, instance_id: str) -> str:
    return str((await get(client, instance_id))["status"])


async def running(client: httpx.AsyncClient, clock: ManualClock, **overrides: Any) -> str:
    """Create an instance and advance the clock until it is running and its app has booted."""
    instance_id = await create(client, **overrides)
    clock.advance(10)
    assert await status_of(client, instance_id) == "running"
    return instance_id
