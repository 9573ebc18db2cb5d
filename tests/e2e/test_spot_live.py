"""Spot recovery end to end on real ports: the emulator on its own port, the service running its
reconciler on the real clock, a webhook receiver. Three instances are reclaimed (``recreate``,
``migrate``, ``none``) and a fourth ``migrate`` one whose migration job fails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import LiveStack, live_stack
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow

RECOVERED = ["instance.spot_reclaim_notice", "instance.migrating", "instance.migrated",
             "instance.ready"]  # fmt: skip


async def launch(live: LiveStack, name: str, recovery: str, hook: str) -> dict[str, Any]:
    body = {"name": name, "productName": "RTX 4090 24GB", "templateId": "pytorch-jupyter",
            "billingMode": "spot", "spotRecovery": recovery, "webhookUrl": hook}  # fmt: skip
    created = await live.client.post("/api/instances", json=body)
    assert created.status_code == 201, created.text
    return await live.wait_status(created.json()["instanceId"], "ready")


async def settled(live: LiveStack, instance_id: str, status: str) -> None:
    """Wait until the reclaim was handled and the instance is in ``status``."""

    async def check() -> bool:
        body = (await live.client.get(f"/api/instances/{instance_id}")).json()
        last = body["spot"]["lastRecovery"] or {}
        done = last.get("outcome") in ("migrated", "recreated", "stopped")
        return bool(done and body["status"] == status and body["spot"]["recovery"] is None)

    await live.wait_for(check, timeout=90, what=f"{instance_id} {status}")


def in_order(events: list[str], expected: list[str]) -> bool:
    remaining = iter(events)
    return all(step in remaining for step in expected)


async def test_reclaimed_instances_come_back_or_stop_with_a_reason(tmp_path: Path) -> None:
    receiver = await Receiver().start()
    try:
        async with live_stack(
            tmp_path, migration_interval_minutes=0.01, instance_poll_interval=1
        ) as live:
            world = live.world
            first = [await launch(live, f"spot-{m}", m, receiver.url) for m in
                     ("recreate", "migrate", "none")]  # fmt: skip
            for inst in first:
                world.reclaim(inst["novitaInstanceId"], 0.2)
            for inst, status in zip(first, ("ready", "ready", "stopped"), strict=True):
                await settled(live, inst["id"], status)
            world.set_migrate_outcome("fail")
            fourth = await launch(live, "spot-fallback", "migrate", receiver.url)
            world.reclaim(fourth["novitaInstanceId"], 0.2)
            await settled(live, fourth["id"], "ready")
            await check_outcomes(live, receiver, [*first, fourth])
    finally:
        await receiver.close()


async def check_outcomes(live: LiveStack, receiver: Receiver, before: list[dict[str, Any]]) -> None:
    recreated, migrated, left, fallback = before
    now = {i["id"]: (await live.client.get(f"/api/instances/{i['id']}")).json() for i in before}
    for inst in (recreated, migrated, fallback):
        after = now[inst["id"]]
        assert (after["name"], after["status"]) == (inst["name"], "ready")
    assert now[migrated["id"]]["novitaInstanceId"] == migrated["novitaInstanceId"]
    for inst in (recreated, fallback):
        assert now[inst["id"]]["novitaInstanceId"] != inst["novitaInstanceId"]
        old = live.world.find_instance(inst["novitaInstanceId"])
        assert old is None or old.status.value in ("toRemove", "removing", "removed")
    assert now[left["id"]]["status"] == "stopped"
    assert "reclaimed" in now[left["id"]]["lastError"]
    await asyncio.sleep(1)  # the last webhooks are on their way
    for inst in (recreated, migrated, fallback):
        events = [json.loads(r.body) for r in receiver.accepted]
        ours = [e["event"] for e in events if e["instanceId"] == inst["id"]]
        assert in_order(ours, RECOVERED), ours
