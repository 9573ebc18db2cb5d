"""A burst of creates: how long after its readiness delay is each instance ``ready``?

The emulator runs in this process with fixed timings: a new instance is upstream ``running``
after ``RUNNING_AFTER`` seconds and its application answers ``APP_BOOT`` seconds later, so
its readiness delay (create -> application answers) is known exactly. The service runs as
``serve`` does (one process, SQLite, default settings unless ``--env`` says otherwise).
First one instance is created alone, then ``count`` at once; each is followed with a long
poll (``GET /api/instances/{id}?waitFor=ready``). Prints the readiness delay, one alone:
create -> ready, the burst's p50/max create -> ready, and max minus the delay next to the
goal (<= 2 s), plus the upstream calls the service made during the burst.

Usage: ./dev bench create_burst [count] [--env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from bench._support import emulated_service_env, free_port, print_table, start_server
from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World
from novita_gpu.emulator.config import StepDurations

RUNNING_AFTER = {"to_create": 0.5, "creating": 1.0, "pulling": 2.5}
APP_BOOT = 1.0
READINESS_DELAY = sum(RUNNING_AFTER.values()) + APP_BOOT
GOAL_SECONDS = 2.0
PRODUCTS = [("4090.16c62g", "us-ca-6"), ("4090.18c60g", "as-sgp-2"),
            ("4090.16c46g", "cn-hongkong-1"), ("4090.12c48g", "eu-de-1")]  # fmt: skip


def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(steps=StepDurations(**RUNNING_AFTER), app_boot_seconds=APP_BOOT)


@dataclass(frozen=True)
class Timing:
    """One instance, in seconds from sending its create."""

    answered: float
    """The create's response arrived."""
    upstream_running: float
    """The emulator entered ``running``."""
    running_seen: float
    """The service recorded upstream ``running`` (its health check started)."""
    ready: float
    rounds: int


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def create_until_ready(client: httpx.AsyncClient, world: World, name: str) -> Timing:
    """Create one instance and long-poll it until ``ready``."""
    sent_wall, started = time.time(), time.perf_counter()
    created = await client.post(
        "/api/instances",
        json={"name": name, "productName": "RTX 4090 24GB", "templateId": "pytorch-jupyter"},
    )
    created.raise_for_status()
    answered = time.perf_counter() - started
    instance_id = created.json()["instanceId"]
    upstream = world.instance(created.json()["novitaInstanceId"])
    while True:
        response = await client.get(
            f"/api/instances/{instance_id}", params={"waitFor": "ready", "timeout": 30}
        )
        body = response.json()
        if body["status"] == "ready":
            ready = time.perf_counter() - started
            check = body["healthCheck"]
            seen = _seconds(check["startedAt"]) - sent_wall
            running = upstream.running_since - sent_wall
            return Timing(answered, running, seen, ready, int(check.get("rounds", 0)))
        if body["status"] in {"failed", "terminated", "deleted"}:
            raise RuntimeError(f"{name} ended {body['status']}: {body.get('lastError')}")


async def measure(
    url: str, count: int, world: World
) -> tuple[Timing, list[Timing], dict[str, int]]:
    """(one alone, the burst's times, upstream calls during the burst by kind)."""
    limits = httpx.Limits(max_connections=count * 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        alone = await create_until_ready(client, world, "burst-alone")
        world.reset_request_counts()
        before = await job_ticks(client)
        burst = await asyncio.gather(
            *(create_until_ready(client, world, f"burst-{i:03d}") for i in range(count))
        )
        after = await job_ticks(client)
    for job in ("status_sync", "readiness"):
        runs = after[job][0] - before[job][0]
        busy = after[job][1] - before[job][1]
        print(f"{job}: {runs:.0f} runs during the burst, {busy:.2f} s busy")
    return alone, list(burst), world.request_counts()


async def job_ticks(client: httpx.AsyncClient) -> dict[str, tuple[float, float]]:
    """Per job: (runs, seconds spent), from the server's metrics."""
    text = (await client.get("/metrics")).text
    found: dict[str, list[float]] = {}
    for line in text.splitlines():
        for suffix, index in (("_count", 0), ("_sum", 1)):
            prefix = f'novita_gpu_reconcile_tick_seconds{suffix}{{job="'
            if line.startswith(prefix):
                job = line[len(prefix) :].split('"', 1)[0]
                found.setdefault(job, [0.0, 0.0])[index] = float(line.rsplit(" ", 1)[1])
    return {job: (runs, busy) for job, (runs, busy) in found.items()} | {
        job: (0.0, 0.0) for job in ("status_sync", "readiness") if job not in found
    }


async def run(count: int, extra_env: dict[str, str]) -> None:
    async with EmulatorServer(emulator_config()) as emulator:
        for product, cluster in PRODUCTS:
            emulator.world.set_capacity(product, cluster, count + 1)
        with tempfile.TemporaryDirectory() as tmp:
            env = await emulated_service_env(Path(tmp), emulator.api_url) | extra_env
            server = start_server("bench.reconcile_server", free_port(), env)
            try:
                alone, burst, calls = await measure(server.url, count, emulator.world)
            finally:
                server.stop()
    report(count, alone, burst, extra_env)
    print(f"\nupstream calls during the burst: {sum(calls.values())}")
    for kind, number in sorted(calls.items(), key=lambda item: -item[1]):
        print(f"  {number:5d}  {kind}")


def _row(name: str, values: list[float], goal: str = "-") -> list[str]:
    median, worst = statistics.median(values), max(values)
    return [name, f"{median:.2f}", f"{worst:.2f}", f"{worst - READINESS_DELAY:+.2f}", goal]


def report(count: int, alone: Timing, burst: list[Timing], extra_env: dict[str, str]) -> None:
    settings = ", ".join(f"{k}={v}" for k, v in extra_env.items()) or "default settings"
    print_table(
        f"seconds from sending the create; readiness delay {READINESS_DELAY:.1f} s (emulator:"
        f" running after {sum(RUNNING_AFTER.values()):.1f} s, application answers"
        f" {APP_BOOT:.1f} s later); {settings}",
        ["figure", "p50", "max", "max - delay", "goal"],
        [
            _row("one alone: running recorded", [alone.running_seen]),
            _row("one alone: ready", [alone.ready]),
            _row(f"burst of {count}: create answered", [t.answered for t in burst]),
            _row(f"burst of {count}: upstream running", [t.upstream_running for t in burst]),
            _row(f"burst of {count}: running recorded", [t.running_seen for t in burst]),
            _row(f"burst of {count}: ready", [t.ready for t in burst], f"<= +{GOAL_SECONDS:.1f}"),
        ],
    )
    rounds = [t.rounds for t in burst]
    print(f"\nprobe rounds per instance: p50 {statistics.median(rounds):.0f}, max {max(rounds)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=50)
    parser.add_argument("--env", action="append", default=[], help="server setting KEY=VALUE")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    asyncio.run(run(args.count, extra))


if __name__ == "__main__":
    main()
