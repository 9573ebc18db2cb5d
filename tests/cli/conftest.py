"""CLI fixtures: a live server (uvicorn + emulator on loopback ports) and a runner that
invokes ``novita-gpu`` against it in a worker thread, so the servers keep running in the
test's event loop while the command blocks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from novita_gpu.cli.main import app
from tests.support.live import LiveStack, live_stack


@dataclass
class Cli:
    """``await cli("instances", "list")`` runs the command against ``url``."""

    url: str
    live: LiveStack | None = None

    async def __call__(self, *args: str, stdin: str | None = None) -> Result:
        env = {"NOVITA_GPU_URL": self.url, "NOVITA_GPU_TOKEN": None, "COLUMNS": "160"}

        def invoke() -> Result:
            return CliRunner().invoke(app, list(args), input=stdin, env=env)

        return await asyncio.to_thread(invoke)

    async def json(self, *args: str) -> Any:
        result = await self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
async def cli(tmp_path: Path) -> AsyncIterator[Cli]:
    async with live_stack(tmp_path) as stack:
        yield Cli(stack.url, stack)
