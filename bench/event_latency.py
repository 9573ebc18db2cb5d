"""Event latency: from the commit that records a state change to the subscriber.

For each size N, seeds N ready instances (in the emulator and in the service's database, each
with a webhook to a local receiver), runs the service as `serve` does with its reconciler on,
opens one event stream (`GET /api/events`), then stops a sample of the instances a few per
second. Each stop records `instance.stopping` (in the request) and later `instance.stopped`
(when the reconciler sees it upstream). For every such event it prints, over webhooks and over
the stream, p50/p99/max of (received - the event's `timestamp`), next to the goals (p50 <= 1 s,
p99 <= 3 s). The baseline measured in the same run is the round trip of a plain request to the
same server (`GET /health/live`), the floor of any delivery from that process.

The event's timestamp is taken before its transaction commits, so the figure is an upper
bound of commit -> subscriber. Detection (how soon a change made upstream becomes an event)
is measured by `notify_latency`.

Usage: ./dev bench event_latency [instances ...] [--changes K] [--rate PER_SECOND]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from tests.support.receiver import Receiver

from bench._support import (
    free_port,
    print_table,
    seed_emulator,
    seed_managed,
    start_server,
)
from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World

PRODUCT, CLUSTER = "4090.16c62g", "us-ca-6"
MEASURED = ("instance.stopping", "instance.stopped")


@dataclass
class StreamReader:
    """One `GET /api/events` subscriber that timestamps every event it reads."""

    arrivals: list[tuple[dict[str, object], float]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, client: httpx.AsyncClient) -> None:
        params = {"types": ",".join(MEASURED)}
        async with client.stream("GET", "/api/events", params=params, timeout=None) as response:
            self.connected.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    self.arrivals.append((json.loads(line[5:]), time.time()))


def latencies(arrivals: list[tuple[dict[str, object], float]], kind: str) -> list[float]:
    """received - event timestamp, in seconds, for events of type ``kind`` (first arrival of
    each event: a webhook retried after a lost answer counts once)."""
    found: dict[object, float] = {}
    for event, received in arrivals:
        if event["event"] == kind and event["id"] not in found:
            stamp = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
            found[event["id"]] = received - stamp.timestamp()
    return list(found.values())


def since_upstream(
    arrivals: list[tuple[dict[str, object], float]], world: World, novita_ids: dict[str, str]
) -> list[float]:
    """received - the moment the stop completed upstream, for each ``instance.stopped``."""
    found: dict[object, float] = {}
    for event, received in arrivals:
        if event["event"] == "instance.stopped" and event["id"] not in found:
            stopped_at = world.instance(novita_ids[str(event["instanceId"])]).last_stopped_at
            found[event["id"]] = received - stopped_at
    return list(found.values())


def webhook_arrivals(receiver: Receiver) -> list[tuple[dict[str, object], float]]:
    to_wall = time.time() - time.monotonic()
    return [(json.loads(r.body), r.received_at + to_wall) for r in receiver.requests]


async def change_states(client: httpx.AsyncClient, ids: list[str], rate: float) -> None:
    """Stop ``ids`` at ``rate`` per second, each stop its own request."""
    tasks = []
    for instance_id in ids:
        tasks.append(asyncio.create_task(client.post(f"/api/instances/{instance_id}/stop")))
        await asyncio.sleep(1 / rate)
    for response in await asyncio.gather(*tasks):
        response.raise_for_status()


async def round_trip(client: httpx.AsyncClient, samples: int = 200) -> list[float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        (await client.get("/health/live")).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


async def wait_for_all(
    receiver: Receiver, stream: StreamReader, expected: int, timeout: float = 120
) -> None:
    def complete() -> bool:
        hooks = webhook_arrivals(receiver)
        return all(
            len(latencies(found, kind)) >= expected
            for found in (hooks, stream.arrivals)
            for kind in MEASURED
        )

    deadline = time.monotonic() + timeout
    # Two sources (receiver and stream), so a cheap poll rather than two wake-ups.
    while not complete() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def measure(count: int, changes: int, rate: float) -> list[list[str]]:
    receiver = await Receiver().start()
    async with EmulatorServer(EmulatorConfig.preset("fast")) as emulator:
        pairs = seed_emulator(emulator.world, count, prefix="latency")
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            ids = await seed_managed(url, pairs, receiver.url)
            env = {
                "DATABASE_URL": url,
                "NOVITA_API_BASE_URL": emulator.api_url,
                "LOG_LEVEL": "warning",
                "RATE_LIMIT_MAX_REQUESTS": "100000000",
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
            }
            server = start_server("bench.reconcile_server", free_port(), env)
            try:
                novita_ids = {i: novita for i, (_, novita) in zip(ids, pairs, strict=True)}
                rows, stream = await _run(server.url, receiver, ids, changes, rate)
                rows += _detection(receiver, stream, emulator.world, novita_ids)
            finally:
                server.stop()
    await receiver.close()
    return [[f"{count}", *row] for row in rows]


async def _run(
    url: str, receiver: Receiver, ids: list[str], changes: int, rate: float
) -> tuple[list[list[str]], StreamReader]:
    sample = ids[:: max(1, len(ids) // changes)][:changes]
    stream = StreamReader()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        floor = await round_trip(client)
        reader = asyncio.create_task(stream.follow(client))
        await asyncio.wait_for(stream.connected.wait(), timeout=30)
        await change_states(client, sample, rate)
        await wait_for_all(receiver, stream, len(sample))
        reader.cancel()
    hooks = webhook_arrivals(receiver)
    rows = [["plain request round trip (floor)", *_figures(floor)[:-1], "-"]]
    for kind in MEASURED:
        rows.append([f"{kind} -> webhook", *_figures(latencies(hooks, kind))])
        rows.append([f"{kind} -> stream", *_figures(latencies(stream.arrivals, kind))])
    return rows, stream


def _detection(
    receiver: Receiver, stream: StreamReader, world: World, novita_ids: dict[str, str]
) -> list[list[str]]:
    """The same ``instance.stopped`` events, timed from the change upstream (detection too)."""
    hooks = since_upstream(webhook_arrivals(receiver), world, novita_ids)
    streamed = since_upstream(stream.arrivals, world, novita_ids)
    return [
        ["upstream stop done -> webhook", *_figures(hooks)],
        ["upstream stop done -> stream", *_figures(streamed)],
    ]


def _figures(values: list[float]) -> list[str]:
    if not values:
        return ["0", "-", "-", "-", "no"]
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p50 = statistics.median(ordered)
    held = "yes" if p50 <= 1.0 and p99 <= 3.0 else "no"
    return [str(len(ordered)), f"{p50:.3f}", f"{p99:.3f}", f"{ordered[-1]:.3f}", held]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instances", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--changes", type=int, default=100, help="instances stopped per size")
    parser.add_argument("--rate", type=float, default=20.0, help="stops per second")
    args = parser.parse_args()
    rows: list[list[str]] = []
    for count in args.instances:
        rows += asyncio.run(measure(count, min(args.changes, count), args.rate))
    print_table(
        "commit -> subscriber (goal: p50 <= 1 s, p99 <= 3 s)",
        ["instances", "figure", "events", "p50 s", "p99 s", "max s", "goal held"],
        rows,
    )


if __name__ == "__main__":
    main()
