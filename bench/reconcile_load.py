"""Upstream cost of following instances at steady state.

Seeds N ready instances (in the emulator and in the service's database), runs the service as
`serve` does (one process, default INSTANCE_POLL_INTERVAL unless given) for a window, and
prints upstream requests per managed instance per minute, the status-sync tick duration, and
the server's resident memory. The baseline, measured in the same run against the same
emulator, is what per-instance polling costs: one GET per instance per interval.

Usage: ./dev bench reconcile_load [instances ...] [--window SECONDS] [--interval SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from bench._support import free_port, print_table, seed_row, start_server
from novita_gpu.db.engine import Database
from novita_gpu.db.migrate import upgrade
from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World

PRODUCT, CLUSTER = "4090.16c62g", "us-ca-6"


def seed_emulator(world: World, count: int) -> list[tuple[str, str]]:
    """``count`` running instances upstream; returns (name, novita id) pairs."""
    world.set_capacity(PRODUCT, CLUSTER, count + 10)
    made = []
    for index in range(count):
        name = f"bench-{index:05d}"
        instance = world.create_instance(
            {"name": name, "productId": PRODUCT, "gpuNum": 1, "rootfsSize": 60,
             "imageUrl": "busybox", "kind": "gpu", "clusterId": CLUSTER, "ports": "22/tcp"}
        )  # fmt: skip
        made.append((name, instance.id))
    world.settle()
    return made


async def seed_database(url: str, pairs: list[tuple[str, str]]) -> None:
    upgrade_url = url
    await asyncio.to_thread(upgrade, upgrade_url)
    db = Database.from_url(url)
    now = datetime.now(UTC)
    rows = []
    for index, (name, novita_id) in enumerate(pairs):
        row = seed_row(index, now)
        row.name, row.novita_instance_id = name, novita_id
        row.port_mappings = [{"port": 22, "type": "tcp", "endpoint": "127.0.0.1:22"}]
        rows.append(row)
    async with db.write() as session, session.begin():
        session.add_all(rows)
    await db.dispose()


async def naive_pass(api_url: str, pairs: list[tuple[str, str]]) -> float:
    """One pass of per-instance polling (the baseline); returns its duration in seconds."""
    started = time.perf_counter()
    limit = asyncio.Semaphore(16)
    headers = {"Authorization": "Bearer bench"}
    async with httpx.AsyncClient(base_url=f"{api_url}/v1", headers=headers, timeout=30) as client:

        async def one(novita_id: str) -> None:
            async with limit:
                (
                    await client.get("/gpu/instance", params={"instanceId": novita_id})
                ).raise_for_status()

        await asyncio.gather(*(one(novita_id) for _, novita_id in pairs))
    return time.perf_counter() - started


async def status_sync_tick_ms(server_url: str) -> float | None:
    """How long the last full status-sync pass took (from /health)."""
    async with httpx.AsyncClient() as client:
        milestones = (await client.get(f"{server_url}/health")).json()["milestones"]
    duration = milestones.get("status_sync:full", {}).get("durationMs")
    return float(duration) if duration is not None else None


async def measure(count: int, window: float, interval: float) -> list[str]:
    async with EmulatorServer(EmulatorConfig.preset("instant")) as emulator:
        pairs = seed_emulator(emulator.world, count)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            await seed_database(url, pairs)
            env = {
                "DATABASE_URL": url,
                "NOVITA_API_BASE_URL": emulator.api_url,
                "INSTANCE_POLL_INTERVAL": str(interval),
                "LOG_LEVEL": "warning",
                "RATE_LIMIT_MAX_REQUESTS": "100000000",
            }
            server = start_server("bench.reconcile_server", free_port(), env)
            try:
                await asyncio.sleep(interval + 2)  # one full pass: the steady state begins
                emulator.world.reset_request_counts()
                await asyncio.sleep(window)
                ours = sum(emulator.world.request_counts().values())
                tick = await status_sync_tick_ms(server.url)
                rss = psutil.Process(server.process.pid).memory_info().rss / 1_048_576
            finally:
                server.stop()
        emulator.world.reset_request_counts()
        naive_seconds = await naive_pass(emulator.api_url, pairs)
        naive_calls = sum(emulator.world.request_counts().values())
    minutes = window / 60
    per_instance = ours / count / minutes
    naive_per_instance = naive_calls / count * (60 / interval)
    return [
        f"{count:,}",
        f"{ours / minutes:,.1f}",
        f"{per_instance:.4f}",
        f"{naive_per_instance:.2f}",
        f"{naive_per_instance / per_instance:,.0f}x" if per_instance else "-",
        f"{tick:.0f}" if tick is not None else "-",
        f"{naive_seconds * 1000:.0f}",
        f"{rss:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instances", nargs="*", type=int, default=[1_000, 10_000])
    parser.add_argument("--window", type=float, default=65.0, help="measured seconds")
    parser.add_argument("--interval", type=float, default=30.0, help="INSTANCE_POLL_INTERVAL")
    args = parser.parse_args()
    rows = [asyncio.run(measure(count, args.window, args.interval)) for count in args.instances]
    print_table(
        f"steady state, INSTANCE_POLL_INTERVAL={args.interval:g}s, {args.window:g}s window",
        [
            "instances", "upstream req/min", "req/instance/min", "naive req/instance/min",
            "saving", "sync pass ms", "naive pass ms", "server RSS MB",
        ],
        rows,
    )  # fmt: skip
    print("\nnaive = one GET /gpu/instance per instance per interval, measured in this run")


if __name__ == "__main__":
    main()
