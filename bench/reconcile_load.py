"""Upstream and server cost of following instances at steady state.

Seeds N ready instances (in the emulator and in the service's database), runs the service as
`serve` does (its own process, default INSTANCE_POLL_INTERVAL unless given) and, once its first
full pass is done, watches it for a window. Prints upstream requests per managed instance per
minute, the status-sync pass (wall time and the server process's CPU seconds), and the server's
resident memory. The emulator runs in this process, so its CPU is not counted in the server's.
The baseline, measured in the same run against the same emulator, is what per-instance polling
costs: one GET per instance per interval.

CPU per pass is read from the server process's CPU times (user + system) around each full pass
the bench sees completing; passes are detected from the database file (the pass's milestone),
so watching costs the server nothing. "cycle" is the CPU from one pass's end to the next's:
the pass plus everything the server does between passes. The first pass after start-up (cold:
every listed instance is parsed) is printed apart.

Usage: ./dev bench reconcile_load [instances ...] [--window SECONDS] [--interval SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench._support import (
    free_port,
    print_table,
    seed_emulator,
    seed_managed,
    start_server,
)
from novita_gpu.emulator import EmulatorConfig, EmulatorServer
from novita_gpu.reconciler.jobs.status_sync import FULL_PASS_MARK

POLL_SECONDS = 0.2
GOAL_CPU_SECONDS, GOAL_RSS_MB = 1.0, 250.0


async def naive_pass(api_url: str, pairs: list[tuple[str, str]]) -> float:
    """One pass of per-instance polling (the baseline); returns its duration in seconds."""
    started = time.perf_counter()
    limit = asyncio.Semaphore(16)
    headers = {"Authorization": "Bearer bench"}
    async with httpx.AsyncClient(base_url=f"{api_url}/v1", headers=headers, timeout=30) as client:

        async def one(novita_id: str) -> None:
            async with limit:
                try:
                    response = await client.get("/gpu/instance", params={"instanceId": novita_id})
                except httpx.TransportError:  # a kept-alive connection closed under the GET
                    response = await client.get("/gpu/instance", params={"instanceId": novita_id})
                response.raise_for_status()

        await asyncio.gather(*(one(novita_id) for _, novita_id in pairs))
    return time.perf_counter() - started


Sample = tuple[float, float, float]  # (monotonic time, user + system CPU s, system CPU s)


@dataclass
class PassWatch:
    """Full status-sync passes seen in a window, with the server's CPU around each."""

    pass_cpu: list[float] = field(default_factory=list)
    pass_system: list[float] = field(default_factory=list)
    pass_seconds: list[float] = field(default_factory=list)
    cycle_cpu: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    idle_cpu: float = 0.0
    idle_seconds: float = 0.0
    last_end: Sample | None = None

    def add(self, before: Sample, end: Sample, duration_ms: int) -> None:
        """One pass, between the samples ``before`` its start and ``end`` (when it was seen)."""
        self.pass_cpu.append(end[1] - before[1])
        self.pass_system.append(end[2] - before[2])
        self.pass_seconds.append(end[0] - before[0])
        self.wall_ms.append(float(duration_ms))
        if self.last_end is not None:
            self.cycle_cpu.append(end[1] - self.last_end[1])
            self.idle_cpu += before[1] - self.last_end[1]
            self.idle_seconds += before[0] - self.last_end[0]
        self.last_end = end

    def net_pass_cpu(self) -> list[float]:
        """Each pass's CPU less what the server spends meanwhile when no pass runs (other
        jobs' ticks), estimated from the CPU rate between passes."""
        if self.idle_seconds <= 0:
            return []
        rate = self.idle_cpu / self.idle_seconds
        pairs = zip(self.pass_cpu, self.pass_seconds, strict=True)
        return [cpu - rate * seconds for cpu, seconds in pairs]


def _last_mark(db_path: Path) -> tuple[str, int] | None:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute(
            "SELECT last_run_at, last_duration_ms FROM leases WHERE name = ?", (FULL_PASS_MARK,)
        ).fetchone()
    return (str(row[0]), int(row[1] or 0)) if row and row[0] else None


def _sample(process: psutil.Process) -> Sample:
    times = process.cpu_times()
    return time.monotonic(), float(times.user + times.system), float(times.system)


async def watch_passes(db_path: Path, process: psutil.Process, window: float) -> PassWatch:
    """Sample the server's CPU every POLL_SECONDS for ``window`` seconds and attribute it to
    the full passes that complete meanwhile (a pass began ``durationMs`` before it is seen)."""
    watch = PassWatch()
    samples: list[Sample] = []
    mark = _last_mark(db_path)
    deadline = time.monotonic() + window
    while time.monotonic() < deadline:
        samples.append(_sample(process))
        current = _last_mark(db_path)
        if current is not None and current != mark:
            mark, end = current, samples[-1]
            began = end[0] - current[1] / 1000 - POLL_SECONDS
            earlier = (sample for sample in reversed(samples) if sample[0] <= began)
            watch.add(next(earlier, samples[0]), end, current[1])
        await asyncio.sleep(POLL_SECONDS)
    return watch


async def first_pass_cpu(db_path: Path, process: psutil.Process, timeout: float = 600) -> float:
    """The server's CPU seconds until its first full pass is recorded: the cold pass, which
    parses every listed instance (nothing to compare with yet), plus start-up work."""
    started, deadline = _sample(process)[1], time.monotonic() + timeout
    while _last_mark(db_path) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("no full status-sync pass was recorded")
        await asyncio.sleep(POLL_SECONDS)
    return _sample(process)[1] - started


def _median(values: list[float], template: str) -> str:
    return template.format(statistics.median(values)) if values else "-"


async def measure(count: int, window: float, interval: float) -> list[str]:
    async with EmulatorServer(EmulatorConfig.preset("instant")) as emulator:
        pairs = seed_emulator(emulator.world, count)
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "bench.db"
            url = f"sqlite:///{db_path}"
            await seed_managed(url, pairs)
            env = {
                "DATABASE_URL": url,
                "NOVITA_API_BASE_URL": emulator.api_url,
                "INSTANCE_POLL_INTERVAL": str(interval),
                "LOG_LEVEL": "warning",
                "RATE_LIMIT_MAX_REQUESTS": "100000000",
            }
            server = start_server("bench.reconcile_server", free_port(), env)
            try:
                process = psutil.Process(server.process.pid)
                cold = await first_pass_cpu(db_path, process)  # then the steady state begins
                emulator.world.reset_request_counts()
                watch = await watch_passes(db_path, process, window)
                ours = sum(emulator.world.request_counts().values())
                rss = process.memory_info().rss / 1_048_576
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
        _median(watch.wall_ms, "{:,.0f}"),
        f"{naive_seconds * 1000:,.0f}",
        f"{len(watch.pass_cpu)}",
        _median(watch.pass_cpu, "{:.2f}"),
        _median(watch.pass_system, "{:.2f}"),
        _median(watch.net_pass_cpu(), "{:.2f}"),
        _median(watch.cycle_cpu, "{:.2f}"),
        f"{cold:.2f}",
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
            "saving", "sync pass ms", "naive pass ms", "passes",
            f"pass CPU s (goal <= {GOAL_CPU_SECONDS:g})", "of which kernel", "less idle work",
            "cycle CPU s",
            "first pass CPU s",
            f"server RSS MB (goal <= {GOAL_RSS_MB:g})",
        ],
        rows,
    )  # fmt: skip
    print("\nnaive = one GET /gpu/instance per instance per interval, measured in this run")
    print("pass CPU = the server process's CPU seconds during one full status-sync pass (median)")
    print("less idle work = pass CPU less the server's CPU rate between passes x the pass's time")
    print("cycle CPU = its CPU from one pass's end to the next's: the pass and all idle work")
    print("first pass = the server's CPU from start-up until its first full pass (cold)")


if __name__ == "__main__":
    main()
