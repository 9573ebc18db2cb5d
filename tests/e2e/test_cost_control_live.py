"""Cost control on real ports, real time, seconds-long thresholds (fractional minutes): an idle
instance stops by itself with its webhook, a heartbeating one stays ready, a runtime cap stops
despite heartbeats, a stopped instance is deleted; the CLI shows the stats and triggers."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.support.live import LiveStack, live_stack
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow

FAST: dict[str, Any] = {
    "auto_stop_check_interval_minutes": 0.01,  # 0.6 s
    "auto_stop_startup_grace_minutes": 0,
    "auto_stop_creation_grace_minutes": 0,
}
IDLE = {"enabled": True, "idleMinutes": 0.05}  # 3 s
NO_PROBE = {"enabled": False}


async def create(live: LiveStack, name: str, **extra: Any) -> str:
    body = {"name": name, "productName": "RTX 4090 24GB", "templateId": "pytorch-jupyter"}
    response = await live.client.post("/api/instances", json={**body, **extra})
    assert response.status_code == 201, response.text
    instance_id: str = response.json()["instanceId"]
    return instance_id


async def status(live: LiveStack, instance_id: str) -> str:
    found: str = (await live.client.get(f"/api/instances/{instance_id}")).json()["status"]
    return found


async def heartbeats(live: LiveStack, ids: list[str], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for instance_id in ids:
            await live.client.put(f"/api/instances/{instance_id}/last-used", json={})
        await asyncio.sleep(0.5)


async def test_rules_enforce_themselves_on_a_live_stack(tmp_path: Path) -> None:
    receiver = await Receiver().start()
    try:
        async with live_stack(tmp_path, **FAST) as live:
            await _exercise(live, receiver)
    finally:
        await receiver.close()


async def _exercise(live: LiveStack, receiver: Receiver) -> None:
    idle = await create(live, "idle", autoStop=IDLE, webhookUrl=receiver.url, healthCheck=NO_PROBE)
    busy = await create(live, "busy", autoStop=IDLE, healthCheck=NO_PROBE)
    cap = await create(
        live, "cap", autoStop={"enabled": False}, maxRuntimeMinutes=0.1, healthCheck=NO_PROBE
    )
    doomed = await create(
        live,
        "doomed",
        autoStop={"enabled": False},
        autoDelete={"afterStoppedMinutes": 0.05},
        healthCheck=NO_PROBE,
    )
    for instance_id in (idle, busy, cap, doomed):
        await live.wait_status(instance_id, "ready")
    done = asyncio.Event()
    beating = asyncio.create_task(heartbeats(live, [busy, cap], done))
    try:
        assert (await live.client.post(f"/api/instances/{doomed}/stop")).status_code == 202
        await live.wait_status(idle, "stopped", timeout=20)
        await live.wait_status(cap, "stopped", timeout=20)
        await live.wait_status(doomed, "deleted", timeout=20)
        assert await status(live, busy) == "ready"
    finally:
        done.set()
        await beating
    await receiver.wait_until(
        lambda: any(
            json.loads(r.body)["event"] == "instance.auto_stopped" for r in receiver.requests
        ),
        timeout=15,
    )
    hooks = [json.loads(r.body) for r in receiver.requests]
    stopped = next(h for h in hooks if h["event"] == "instance.auto_stopped")
    assert stopped["instanceId"] == idle
    assert stopped["data"]["reason"] == "idle"
    cap_events = (await live.client.get(f"/api/instances/{cap}/events")).json()["events"]
    reasons = [e["data"].get("reason") for e in cap_events if e["type"] == "instance.auto_stopped"]
    assert reasons == ["max_runtime"]
    doomed_events = (await live.client.get(f"/api/instances/{doomed}/events")).json()["events"]
    assert "instance.auto_deleted" in [e["type"] for e in doomed_events]
    await _cli(live, busy)


async def _cli(live: LiveStack, busy: str) -> None:
    cli = Cli(live.url, live)
    stats = await cli.json("autostop", "stats")
    assert stats["schedulerRunning"] is True
    assert stats["lastCheckAt"] is not None
    table = await cli("autostop", "stats")
    assert table.exit_code == 0, table.output
    assert "next check" in table.stdout
    await asyncio.sleep(4)  # busy is idle now (its heartbeats stopped)
    dry = await cli("autostop", "trigger")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.stdout
    for _ in range(10):  # 409 (exit 4) while the scheduler's own check holds the lease
        real = await cli("autostop", "trigger", "--no-dry-run", "--json")
        if real.exit_code != 4:
            break
        await asyncio.sleep(0.2)
    assert real.exit_code == 0, real.output
    assert json.loads(real.stdout)["dryRun"] is False
    assert await status(live, busy) in {"stopping", "stopped"}


DOC = Path(__file__).resolve().parents[2] / "docs" / "cost-control.md"


async def test_the_guide_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = DOC.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    async with live_stack(tmp_path) as live:
        monkeypatch.setenv("NOVITA_GPU_URL", live.url)
        monkeypatch.delenv("NOVITA_GPU_TOKEN", raising=False)
        printed = io.StringIO()

        def run() -> None:
            with contextlib.redirect_stdout(printed):
                exec(compile(block, DOC.name, "exec"), {"__name__": "docs_cost_control"})  # noqa: S102

        await asyncio.to_thread(run)
        # Fresh heartbeats and the creation grace: a dry run finds nothing due.
        assert "dry_run=True" in printed.getvalue()
        assert "eligible=0" in printed.getvalue()
        listed = (await live.client.get("/api/instances", params={"name": "train-demo"})).json()
        assert listed["instances"][0]["maxRuntimeMinutes"] == 480
