"""Serve the emulator on a real loopback port with uvicorn, inside the current event loop.

``async with EmulatorServer() as server:`` binds (port 0 = ephemeral), points
``config.endpoint_base_url`` at itself so port endpoints answer over real HTTP, and stops on exit.
With ``config.ssh_enabled`` it also serves SSH into running instances (:mod:`.ssh`) on another
loopback port, published in each instance's ``sshCommand``.
The server installs no signal handlers, so it can live inside another server (``serve``).
With a ``state_file``, the world is loaded from it at start, saved to it after changes and at
stop (:mod:`novita_gpu.emulator.persistence`), so instances outlive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import uvicorn

from novita_gpu.core.clock import Clock
from novita_gpu.emulator.app import create_emulator_app
from novita_gpu.emulator.config import EmulatorConfig
from novita_gpu.emulator.gateway import ConnectionDropped
from novita_gpu.emulator.persistence import load_world, save_world, world_state
from novita_gpu.emulator.world import World

SAVE_INTERVAL_SECONDS = 1.0

if TYPE_CHECKING:
    from novita_gpu.emulator.ssh import EmulatorSSH


class _DroppedConnectionFilter(logging.Filter):
    """Hide uvicorn's traceback for connections the emulator broke on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_DROPPED_CONNECTION_FILTER = _DroppedConnectionFilter()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave signal handling to whoever owns the process."""
        yield


class EmulatorServer:
    """The emulator on ``http://<host>:<port>``; see the module docstring."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.state_file = state_file
        self._saver: asyncio.Task[None] | None = None
        self.host = host
        self.port = port
        self.world = World(self.config, clock=clock)
        self.app = create_emulator_app(world=self.world)
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.ssh: EmulatorSSH | None = None

    @property
    def base_url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:40123``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What a client's ``NOVITA_API_BASE_URL`` should be (it appends ``/v1/...``)."""
        return f"{self.base_url}/gpu-instance/openapi"

    async def start(self) -> None:
        """Bind and start serving. Raises ``OSError`` if the port cannot be bound, and
        ``ValueError`` if ``state_file`` exists but cannot be read."""
        if self.state_file is not None:
            load_world(self.world, self.state_file)
        if self.config.ssh_enabled:
            await self._start_ssh()
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.config.endpoint_base_url = self.base_url
        logging.getLogger("uvicorn.error").addFilter(_DROPPED_CONNECTION_FILTER)
        uv_config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = _Server(uv_config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task  # re-raises the startup failure
            await asyncio.sleep(0.01)
        if self.state_file is not None:
            self._saver = asyncio.create_task(self._save_periodically(self.state_file))

    async def stop(self) -> None:
        """Stop serving (idempotent); the world is saved a last time when it has a state file."""
        if self.ssh is not None:
            await self.ssh.stop()
            self.ssh = None
            self.config.ssh_address = self.config.ssh_host_key = None
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        if self.state_file is not None:
            save_world(self.world, self.state_file)

    async def _save_periodically(self, path: Path) -> None:
        """Save after every change, checked each :data:`SAVE_INTERVAL_SECONDS` of real time,
        so even a process that is killed loses at most that much."""
        last = ""
        while True:
            await asyncio.sleep(SAVE_INTERVAL_SECONDS)
            current = repr(world_state(self.world))
            if current != last:
                save_world(self.world, path)
                last = current

    async def _start_ssh(self) -> None:
        from novita_gpu.emulator.ssh import EmulatorSSH  # asyncssh only when SSH is on

        # Always loopback: the sandbox runs commands on this machine.
        self.ssh = EmulatorSSH(self.world, host="127.0.0.1")
        await self.ssh.start()
        self.config.ssh_address = (self.ssh.host, self.ssh.port)
        self.config.ssh_host_key = self.ssh.host_key

    async def serve_forever(self) -> None:
        """Serve until the task is cancelled."""
        if self._task is None:
            await self.start()
        assert self._task is not None
        await asyncio.shield(self._task)

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def run_emulator(
    host: str = "127.0.0.1",
    port: int = 9100,
    config: EmulatorConfig | None = None,
    *,
    on_ready: Callable[[EmulatorServer], None] | None = None,
) -> None:
    """Serve until Ctrl-C (blocking; for the CLI). Prints nothing: ``on_ready`` is called
    with the started server so the caller can print a banner."""

    async def main() -> None:
        async with EmulatorServer(config, host=host, port=port) as server:
            if on_ready is not None:
                on_ready(server)
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
