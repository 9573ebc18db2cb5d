"""Notification latency: from "the instance's application answers" to "webhook received".

Creates N instances with a webhook, stops them, then starts all N at once. The emulator knows
when each application began to answer (it entered ``running`` and finished booting); a local
receiver timestamps each ``instance.ready`` webhook. Prints p50/p95/max of (webhook -
application answers), next to start -> application answers (the part the control plane cannot
shorten), all measured in this run. Nothing polls the applications, so the bench adds no load.

Usage: ./dev bench notify_latency [instances] [--fast-poll SECONDS] [--env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.receiver import Receiver

from bench._support import emulated_service_env, free_port, print_table, start_server
from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World

RTX_4090 = [("4090.16c62g", "us-ca-6"), ("4090.18c60g", "as-sgp-2"),
            ("4090.16c46g", "cn-hongkong-1"), ("4090.12c48g", "eu-de-1")]  # fmt: skip


async def wait_status(client: httpx.AsyncClient, ids: list[str], status: str) -> None:
    async def one(instance_id: str) -> None:
        while True:
            response = await client.get(
                f"/api/instances/{instance_id}", params={"waitFor": status, "timeout": 30}
            )
            if response.json()["status"] == status:
                return

    await asyncio.gather(*(one(i) for i in ids))


def ready_times(receiver: Receiver, after: int) -> dict[str, float]:
    times: dict[str, float] = {}
    for request in receiver.requests[after:]:
        event = json.loads(request.body)
        if event["event"] == "instance.ready":
            times.setdefault(event["instanceId"], request.received_at)
    return times


async def run(count: int, fast_poll: float | None, extra_env: dict[str, str]) -> None:
    receiver = await Receiver().start()
    async with EmulatorServer(EmulatorConfig.preset("fast")) as emulator:
        for product, cluster in RTX_4090:
            emulator.world.set_capacity(product, cluster, count)
        with tempfile.TemporaryDirectory() as tmp:
            env = await emulated_service_env(Path(tmp), emulator.api_url)
            env["RATE_LIMIT_MAX_REQUESTS"] = "100000000"
            if fast_poll is not None:
                env["INSTANCE_FAST_POLL_INTERVAL"] = str(fast_poll)
            env.update(extra_env)
            server = start_server("bench.reconcile_server", free_port(), env)
            try:
                rows = await measure(server.url, receiver, emulator.world, count)
            finally:
                server.stop()
    await receiver.close()
    print_table(
        f"{count} concurrent starts, emulator 'fast' preset, fast poll "
        f"{fast_poll if fast_poll is not None else 'default (3)'} s",
        ["interval", "p50 s", "p95 s", "max s"],
        rows,
    )


async def measure(server_url: str, receiver: Receiver, world: World, count: int) -> list[list[str]]:
    async with httpx.AsyncClient(base_url=server_url, timeout=60) as client:
        created = await asyncio.gather(*(
            client.post("/api/instances", json={
                "name": f"notify-{i:03d}", "productName": "RTX 4090 24GB",
                "templateId": "pytorch-jupyter", "webhookUrl": receiver.url,
            }) for i in range(count)
        ))  # fmt: skip
        novita_ids = {r.json()["instanceId"]: r.json()["novitaInstanceId"] for r in created}
        ids = list(novita_ids)
        await wait_status(client, ids, "ready")
        await client.post("/api/instances/stop-all")
        await wait_status(client, ids, "stopped")
        seen = len(receiver.requests)
        started = time.time()
        await asyncio.gather(*(client.post(f"/api/instances/{i}/start") for i in ids))
        await receiver.wait_until(lambda: len(ready_times(receiver, seen)) >= count, timeout=300)
    to_wall = time.time() - time.monotonic()
    hooks = {i: at + to_wall for i, at in ready_times(receiver, seen).items()}
    answered = {i: app_answered_at(world, novita_ids[i]) for i in ids}
    latency = [hooks[i] - answered[i] for i in ids]
    boot = [answered[i] - started for i in ids]
    return [_row("app answers -> ready webhook", latency), _row("start -> app answers", boot)]


def app_answered_at(world: World, novita_id: str) -> float:
    """Wall time the emulated application began answering (running + boot time)."""
    instance = world.instance(novita_id)
    boot = instance.boot_seconds
    if boot is None:
        boot = world.config.scaled(world.config.app_boot_seconds)
    return instance.running_since + boot


def _row(name: str, values: list[float]) -> list[str]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return [name, f"{statistics.median(ordered):.2f}", f"{p95:.2f}", f"{ordered[-1]:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instances", nargs="?", type=int, default=100)
    parser.add_argument("--fast-poll", type=float, default=None, help="INSTANCE_FAST_POLL_INTERVAL")
    parser.add_argument("--env", action="append", default=[], help="server setting KEY=VALUE")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    asyncio.run(run(args.instances, args.fast_poll, extra))


if __name__ == "__main__":
    main()
