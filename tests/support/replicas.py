"""Two (or more) server processes on a fresh PostgreSQL database, an emulator with room for
``capacity`` instances in four clusters, and a webhook receiver: the stage of replica tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World
from tests.support.databases import POSTGRES_URL, create_database, drop_database
from tests.support.processes import ServerProcess, server_env
from tests.support.receiver import Receiver

CLUSTERS = (
    ("4090.16c62g", "us-ca-6"),
    ("4090.18c60g", "as-sgp-2"),
    ("4090.16c46g", "cn-hongkong-1"),
    ("4090.12c48g", "eu-de-1"),
)


@dataclass
class Stage:
    emulator: EmulatorServer
    servers: list[ServerProcess]
    receiver: Receiver


@asynccontextmanager
async def replicas(
    tmp_path: Path,
    capacity: int,
    *,
    config: EmulatorConfig | None = None,
    prepare: Callable[[World], None] | None = None,
    **env: str,
) -> AsyncIterator[Stage]:
    """Start two servers on a new database (dropped afterwards); ``prepare`` sees the world
    before they start; ``env`` is added to their environment."""
    assert POSTGRES_URL
    name = f"novita_replicas_{uuid.uuid4().hex[:8]}"
    database_url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    await create_database(name)
    receiver = await Receiver().start()
    try:
        async with EmulatorServer(config or EmulatorConfig.preset("fast")) as emulator:
            for product, cluster in CLUSTERS:
                emulator.world.set_capacity(product, cluster, capacity)
            if prepare is not None:
                prepare(emulator.world)
            environment = server_env(database_url, **env)
            servers = [
                ServerProcess(emulator.base_url, environment, tmp_path / f"s{i}.log")
                for i in range(2)
            ]
            await asyncio.gather(*(server.start() for server in servers))
            try:
                yield Stage(emulator, servers, receiver)
            finally:
                for server in servers:
                    server.stop()
    finally:
        await receiver.close()
        await drop_database(name)
