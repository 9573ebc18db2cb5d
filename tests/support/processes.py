"""Server processes for crash and multi-replica tests: ``novita-gpu serve`` as a real
subprocess that can be killed with SIGKILL and started again on the same database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.live import free_port

FAST_RECONCILE = {
    "INSTANCE_FAST_POLL_INTERVAL": "0.2",
    "HEALTH_CHECK_RETRY_DELAY_MS": "100",
    "REQUEST_TIMEOUT": "3000",
    "LOG_LEVEL": "warning",
    "RATE_LIMIT_MAX_REQUESTS": "1000000",
}


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server process: no inherited Novita or webhook settings."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NOVITA", "WEBHOOK", "API_", "DATABASE_URL", "PORT", "HOST"))
    }
    return {**inherited, **FAST_RECONCILE, "DATABASE_URL": database_url, **extra}


@dataclass
class ServerProcess:
    """One ``serve`` process pointed at an emulator that is already running."""

    emulator_url: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        command = [
            sys.executable, "-m", "novita_gpu.cli", "serve",
            "--port", str(self.port), "--emulator-url", self.emulator_url,
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)  # noqa: ASYNC220
        await self._wait_until_up()

    async def _wait_until_up(self, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient() as client:
            while loop.time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
                try:
                    await client.get(f"{self.url}/health/live", timeout=1)
                    return
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        raise AssertionError("server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, like a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
