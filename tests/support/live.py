"""A live stack for end-to-end tests: the emulator and the service on real loopback ports,
talking real HTTP, with the background reconciler running on the real clock."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from novita_gpu.app import AppOptions, create_app
from novita_gpu.core.config import Settings
from novita_gpu.edge.protocol import EnvelopeHttpToolsProtocol
from novita_gpu.emulator import EmulatorConfig, EmulatorServer, World
from tests.support.settings import make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI, port: int) -> AsyncIterator[uvicorn.Server]:
    """Run ``app`` with uvicorn on 127.0.0.1:``port`` in this event loop."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        http=EnvelopeHttpToolsProtocol,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        await _stopped(server, task)


async def _stopped(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Wait for ``task`` (the server) to end; if it does not within 30 s, fail with where every
    task is stuck rather than hanging the suite (a cancelled wait could hang as well)."""
    done, _ = await asyncio.wait({task}, timeout=30)
    if done:
        task.result()
        return
    stuck = _task_stacks()
    server.force_exit = True
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    raise AssertionError(f"the server did not shut down within 30 s:\n{stuck}")


def _task_stacks() -> str:
    out = io.StringIO()
    for pending in asyncio.all_tasks():
        if not pending.done():
            pending.print_stack(limit=8, file=out)
    return out.getvalue()


@dataclass
class LiveStack:
    client: httpx.AsyncClient
    url: str
    emulator: EmulatorServer
    settings: Settings

    @property
    def world(self) -> World:
        return self.emulator.world

    async def wait_for(
        self, check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition"
    ) -> None:
        """Poll ``check`` in real time until it holds (fails the test after ``timeout``)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def wait_status(
        self, instance_id: str, status: str, timeout: float = 20.0
    ) -> dict[str, Any]:
        response = await self.client.get(
            f"/api/instances/{instance_id}", params={"waitFor": status, "timeout": timeout}
        )
        body: dict[str, Any] = response.json()
        assert body["status"] == status, body
        return body


@contextlib.asynccontextmanager
async def live_stack(
    tmp_path: Path, *, preset: str = "instant", ssh: bool = False, **overrides: Any
) -> AsyncIterator[LiveStack]:
    """The emulator (with its SSH server if ``ssh``) and the service, on loopback ports."""
    config = EmulatorConfig.preset(preset)  # type: ignore[arg-type]
    config.ssh_enabled = ssh
    async with EmulatorServer(config) as emulator:
        port = free_port()
        values: dict[str, Any] = {
            "novita_api_base_url": emulator.api_url,
            "port": port,
            "instance_fast_poll_interval": 0.2,
            "health_check_retry_delay_ms": 100,
            **overrides,
        }
        settings = make_settings(f"sqlite:///{tmp_path / 'live.db'}", **values)
        async with serve_app(create_app(settings, AppOptions()), port):
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                yield LiveStack(client, url, emulator, settings)
