"""An instance deleted before its create was confirmed, that surfaces upstream later, is
deleted through a durable intent: a failed delete is retried, never forgotten."""

from __future__ import annotations

from novita_gpu.db.models import Instance
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import UnitOfWork, update_instance
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import create, settle


async def _deleted_before_confirmed(uow: UnitOfWork, row: Instance) -> None:
    row.desired_status = Status.DELETED.value
    await change_status(uow.recorder, row, Status.DELETED)


def upstream_alive(api: Api, name: str) -> list[str]:
    return [
        i.id
        for i in api.world.instances()
        if i.name == name and not i.status.value.startswith(("toRemove", "remov"))
    ]


async def test_failed_late_delete_is_retried_until_novita_accepts(api: Api, runner: Runner) -> None:
    api.world.add_fault("lost_response", "/gpu/instance/create", count=1)
    api.world.add_fault("error", "/gpu/instances", count=3, status=503)
    created = await create(api, "late")
    assert created["novitaInstanceId"] is None
    # The user deleted it while the create's answer was lost (the tombstone keeps watching).
    await update_instance(api.ctx, created["instanceId"], _deleted_before_confirmed)
    api.world.clear_faults()
    api.world.add_fault("error", "/gpu/instance/delete", count=3, status=500)
    api.clock.advance(10)
    await runner.run_once("create_recovery")
    row = (await api.client.get(f"/api/instances/{created['instanceId']}")).json()
    assert row["status"] == "deleting"
    assert row["novitaInstanceId"]
    await runner.run_once("intents")  # the delete fails: the intent stays
    assert upstream_alive(api, "late")
    row = (await api.client.get(f"/api/instances/{created['instanceId']}")).json()
    assert row["status"] == "deleting"
    api.clock.advance(10)
    await runner.run_once("intents")  # accepted now
    await settle(api, runner)
    assert upstream_alive(api, "late") == []
    final = (await api.client.get(f"/api/instances/{created['instanceId']}")).json()
    assert final["status"] == "deleted"
    types = [
        e["type"]
        for e in (await api.client.get(f"/api/instances/{created['instanceId']}/events")).json()[
            "events"
        ]
    ]
    assert types[-2:] == ["instance.deleting", "instance.deleted"]
