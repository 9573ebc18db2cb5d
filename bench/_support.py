"""Shared pieces of the benchmarks: seeding, running servers and wrk, printing tables."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from novita_gpu.core.ids import new_instance_id
from novita_gpu.db.engine import Database
from novita_gpu.db.migrate import upgrade
from novita_gpu.db.models import Instance
from novita_gpu.emulator import World

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_wrk() -> str:
    """The wrk load generator, installed with apt-get on first use."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get) ...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def seed_row(index: int, now: datetime) -> Instance:
    created = now - timedelta(minutes=index)
    return Instance(
        id=new_instance_id(),
        name=f"bench-{index:05d}",
        status="ready",
        upstream_status="running",
        novita_instance_id=f"{index:016x}",
        source="managed",
        product_id="4090.16c62g",
        product_name="RTX 4090 24GB",
        region="US-CA-06",
        cluster_id="us-ca-6",
        gpu_num=1,
        rootfs_size=60,
        billing_mode="spot",
        template_id="pytorch-jupyter",
        image_url="novita/pytorch:2.4-cuda12.4-jupyter",
        ports=[{"port": 8888, "type": "http"}, {"port": 22, "type": "tcp"}],
        envs=[],
        price_units=18000,
        spot_price_units=18000,
        on_demand_price_units=35000,
        port_mappings=[
            {
                "port": 8888,
                "type": "http",
                "endpoint": f"https://{index:016x}-8888.proxy.novita.ai",
            },
            {"port": 22, "type": "tcp", "endpoint": f"proxy.us-ca-6.novita.ai:{30000 + index}"},
        ],
        connection={"ssh": f"ssh root@proxy.us-ca-6.gpu-instance.novita.ai -p {30000 + index}"},
        health_check={"status": "healthy", "checkedAt": created.isoformat(), "endpoints": []},
        auto_stop_enabled=True,
        auto_stop_idle_minutes=10,
        spot_recovery="migrate",
        created_at=created,
        updated_at=created,
        status_changed_at=created,
        started_at=created,
        ready_at=created,
        running_since=created,
        runtime_seconds=0.0,
        create_attempts=1,
    )


async def _seed(url: str, count: int) -> list[str]:
    db = Database.from_url(url)
    now = datetime.now(UTC)
    rows = [seed_row(index, now) for index in range(count)]
    async with db.write() as session, session.begin():
        session.add_all(rows)
    await db.dispose()
    return [row.id for row in rows]


SEED_PRODUCT, SEED_CLUSTER = "4090.16c62g", "us-ca-6"


def seed_emulator(world: World, count: int, prefix: str = "bench") -> list[tuple[str, str]]:
    """``count`` running instances upstream; returns (name, novita id) pairs."""
    world.set_capacity(SEED_PRODUCT, SEED_CLUSTER, count + 10)
    made = []
    for index in range(count):
        name = f"{prefix}-{index:05d}"
        instance = world.create_instance(
            {"name": name, "productId": SEED_PRODUCT, "gpuNum": 1, "rootfsSize": 60,
             "imageUrl": "busybox", "kind": "gpu", "clusterId": SEED_CLUSTER, "ports": "22/tcp"}
        )  # fmt: skip
        made.append((name, instance.id))
    world.settle()
    return made


async def seed_managed(
    url: str, pairs: list[tuple[str, str]], webhook: str | None = None
) -> list[str]:
    """The same instances as managed, ready rows (auto-stop off, so only the bench changes
    their states), each with ``webhook``; returns their ids."""
    await asyncio.to_thread(upgrade, url)
    db = Database.from_url(url)
    now = datetime.now(UTC)
    rows = []
    for index, (name, novita_id) in enumerate(pairs):
        row = seed_row(index, now)
        row.name, row.novita_instance_id, row.webhook_url = name, novita_id, webhook
        row.port_mappings = [{"port": 22, "type": "tcp", "endpoint": "127.0.0.1:22"}]
        row.auto_stop_enabled = False
        rows.append(row)
    async with db.write() as session, session.begin():
        session.add_all(rows)
    await db.dispose()
    return [row.id for row in rows]


def seeded_database(directory: Path, count: int) -> tuple[str, list[str]]:
    """A migrated SQLite database with ``count`` ready instances; returns (url, ids)."""
    url = f"sqlite:///{directory / 'bench.db'}"
    upgrade(url)
    return url, asyncio.run(_seed(url, count))


async def emulated_service_env(directory: Path, emulator_api_url: str) -> dict[str, str]:
    """Settings for a bench server on a fresh migrated SQLite file in ``directory``, with the
    given emulator as its upstream."""
    url = f"sqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    return {"DATABASE_URL": url, "NOVITA_API_BASE_URL": emulator_api_url, "LOG_LEVEL": "warning"}


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def start_server(module: str, port: int, env: dict[str, str]) -> Server:
    """Run ``python -m <module>`` (a bench server) and wait until /health/live answers."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen([sys.executable, "-m", module, str(port)], env=full_env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return Server(process, url)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{module} did not start")


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, *, connections: int, seconds: int, script: Path | None = None) -> LoadResult:
    command = [
        ensure_wrk(),
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
    ]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx responses during the run")
    return LoadResult(rps, p50, p99)


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
