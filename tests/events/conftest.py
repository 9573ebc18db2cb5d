"""The app for stream tests: on a real loopback port (uvicorn) or called as a bare ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.types import Message

from novita_gpu.app import create_app
from novita_gpu.context import AppContext
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from tests.conftest import app_options
from tests.support.live import free_port, serve_app


@dataclass
class LiveServer:
    """The app served by uvicorn on 127.0.0.1; ``server`` shows its open request tasks."""

    client: httpx.AsyncClient
    ctx: AppContext
    clock: ManualClock
    server: uvicorn.Server


@pytest.fixture
async def live(
    settings: Settings, clock: ManualClock, emulator: Starlette
) -> AsyncIterator[LiveServer]:
    contexts: list[AppContext] = []
    app = create_app(settings, app_options(clock, emulator, on_ready=[contexts.append]))
    port = free_port()
    async with (
        serve_app(app, port) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        yield LiveServer(client, contexts[0], clock, server)


@dataclass
class AsgiCall:
    """One request to a bare ASGI app: what it sent, and a way to hang up."""

    task: asyncio.Task[None]
    sent: list[Message]
    hang_up: asyncio.Event

    @property
    def body(self) -> str:
        chunks = (m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        return b"".join(chunks).decode()


@dataclass
class BareApp:
    app: FastAPI
    state: Mapping[str, Any] | None

    @property
    def ctx(self) -> AppContext:
        assert self.state is not None
        ctx: AppContext = self.state["ctx"]
        return ctx

    def get(self, path: str, query: str = "") -> AsgiCall:
        """Start a GET as an ASGI 2.4 server (uvicorn) would; the body is never sent in full."""
        sent: list[Message] = []
        hang_up = asyncio.Event()
        requested = False

        async def receive() -> Message:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await hang_up.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": dict(self.state or {}),
        }
        return AsgiCall(asyncio.create_task(self.app(scope, receive, send)), sent, hang_up)


@pytest.fixture
def bare_app(settings: Settings, clock: ManualClock, emulator: Starlette) -> FastAPI:
    return create_app(settings, app_options(clock, emulator))
