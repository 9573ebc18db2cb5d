"""Helpers for instance tests: request bodies and driving simulated time."""

from __future__ import annotations

from typing import Any

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api

NO_PROBE = {"enabled": False}


def body(name: str = "job-1", **overrides: Any) -> dict[str, Any]:
    """A valid create body (RTX 4090 on the pytorch-jupyter template)."""
    return {
        "name": name,
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
        **overrides,
    }


async def create(api: Api, name: str = "job-1", **overrides: Any) -> dict[str, Any]:
    response = await api.client.post("/api/instances", json=body(name, **overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def settle(api: Api, runner: Runner, seconds: float = 30.0) -> None:
    """Let simulated time pass, then run the jobs that follow instances."""
    api.clock.advance(seconds)
    for job in ("status_sync", "intents", "readiness", "status_sync"):
        await runner.run_once(job)


async def status_of(api: Api, instance_id: str) -> str:
    response = await api.client.get(f"/api/instances/{instance_id}")
    status: str = response.json()["status"]
    return status


def upstream_creates(api: Api) -> int:
    return api.world.request_counts().get("POST /gpu/instance/create", 0)
