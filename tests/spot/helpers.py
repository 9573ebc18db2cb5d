"""Driving a spot reclaim on the manual clock: launch, reclaim, and run the jobs that follow."""

from __future__ import annotations

from typing import Any

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle


async def launch(api: Api, runner: Runner, name: str, recovery: str | None) -> dict[str, Any]:
    """A spot instance, ready; ``recovery`` None keeps the default."""
    extra = {"spotRecovery": recovery} if recovery else {}
    created = await create(api, name, billingMode="spot", healthCheck=NO_PROBE, **extra)
    await settle(api, runner)
    ready = await view(api, created["instanceId"])
    assert ready["status"] == "ready", ready
    return ready


async def view(api: Api, instance_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.client.get(f"/api/instances/{instance_id}")).json()
    return body


async def event_types(api: Api, instance_id: str) -> list[str]:
    events = (await api.client.get(f"/api/instances/{instance_id}/events")).json()["events"]
    return [event["type"] for event in events]


async def reclaim(api: Api, runner: Runner, novita_id: str, notice: float = 10) -> None:
    """Announce the reclaim, let the status sync see it, then let it complete upstream."""
    api.world.reclaim(novita_id, notice)
    api.clock.advance(30)
    await runner.run_once("status_sync")


async def recover(api: Api, runner: Runner) -> None:
    """The recovery pass, then follow-up and status/readiness ticks until things settle."""
    await runner.run_once("spot_recovery")
    for _ in range(3):
        api.clock.advance(5)
        await runner.run_once("spot_follow")
        await settle(api, runner)


def live_upstream(api: Api, name: str) -> list[str]:
    """Ids of upstream instances with ``name`` that are not being removed."""
    gone = {"toRemove", "removing", "removed"}
    return [i.id for i in api.world.instances(name=name) if i.status.value not in gone]


async def assert_left_stopped(api: Api, runner: Runner, inst: dict[str, Any], why: str) -> str:
    """Reclaim ``inst``, run recovery, and check it stays stopped with ``why`` in ``lastError``
    and no migrate sent; returns ``lastRecovery.outcome``."""
    await reclaim(api, runner, inst["novitaInstanceId"])
    await recover(api, runner)
    stopped = await view(api, inst["id"])
    assert stopped["status"] == "stopped"
    assert why in stopped["lastError"]
    assert "POST /gpu/instance/migrate" not in api.world.request_counts()
    outcome: str = stopped["spot"]["lastRecovery"]["outcome"]
    return outcome
