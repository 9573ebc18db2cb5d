"""Helpers for cost-control tests: instances brought to ready on the manual clock."""

from __future__ import annotations

from typing import Any

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle, status_of


def fast_policy(api: Api, *, grace: float = 0.0, idle: float = 10.0) -> None:
    """No grace periods unless asked, so a rule is tested at its own threshold."""
    api.ctx.settings.auto_stop_startup_grace_minutes = grace
    api.ctx.settings.auto_stop_creation_grace_minutes = grace
    api.ctx.settings.auto_stop_idle_minutes = idle


async def ready(api: Api, runner: Runner, name: str, **overrides: Any) -> str:
    """A managed instance that is ``ready`` now; returns its id."""
    created = await create(api, name, healthCheck=NO_PROBE, **overrides)
    await settle(api, runner, 5)
    instance_id: str = created["instanceId"]
    assert await status_of(api, instance_id) == "ready"
    return instance_id


async def trigger(api: Api, *, dry_run: bool = False) -> dict[str, Any]:
    response = await api.client.post("/api/instances/auto-stop/trigger", json={"dryRun": dry_run})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def events(api: Api, instance_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"/api/instances/{instance_id}/events")
    found: list[dict[str, Any]] = response.json()["events"]
    return found


async def types(api: Api, instance_id: str) -> list[str]:
    return [event["type"] for event in await events(api, instance_id)]


def calls(api: Api, key: str) -> int:
    return api.world.request_counts().get(key, 0)
