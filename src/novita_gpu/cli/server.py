"""``novita-gpu serve`` and ``novita-gpu emulator``.

With no ``NOVITA_API_KEY``, ``serve`` starts the Novita emulator on a loopback port in the same
process and points the upstream client at it, and says so loudly. The embedded emulator keeps its
world in ``emulator-state.json`` next to the SQLite database (``./data`` otherwise), so a restart
finds its instances where they were; ``--fresh-emulator`` starts from an empty world.
``--emulator-url`` points at an emulator that is already running instead (used by tests and by
``--workers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import typer
import uvicorn
from rich.console import Console
from rich.panel import Panel
from uvicorn.loops.auto import auto_loop_factory

from novita_gpu.app import AppOptions, create_app
from novita_gpu.cli.common import EXIT_CONFIG, settings_or_exit
from novita_gpu.core.config import Settings
from novita_gpu.edge.protocol import EnvelopeHttpToolsProtocol
from novita_gpu.emulator import EmulatorConfig, EmulatorServer
from novita_gpu.emulator.config import RECLAIM_RATE_ENV
from novita_gpu.emulator.shapes import Shapes
from novita_gpu.observability.logging import configure_logging

_console = Console(stderr=True)
# Open event streams and long-polls would otherwise hold a shutdown until clients leave.
GRACEFUL_SHUTDOWN_SECONDS = 5


_RECLAIM_HELP = (
    "Random spot reclaims per running spot instance per hour, to watch recovery happen"
    f" ({RECLAIM_RATE_ENV})"
)


def _set_reclaim_rate(rate: float | None) -> None:
    """The emulator reads its settings from the environment (also in a worker's child
    process), so the flag becomes the variable."""
    if rate is not None:
        os.environ[RECLAIM_RATE_ENV] = str(rate)


def serve(
    host: str | None = typer.Option(None, help="Bind address (HOST)."),
    port: int | None = typer.Option(None, help="Port (PORT)."),
    emulator: bool = typer.Option(
        False, "--emulator", help="Use the emulator even if NOVITA_API_KEY is set."
    ),
    emulator_url: str | None = typer.Option(
        None, help="Use an emulator that is already running at this URL."
    ),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes."),
    fresh_emulator: bool = typer.Option(
        False, "--fresh-emulator", help="Start the embedded emulator from an empty world."
    ),
    emulator_reclaim_rate: float | None = typer.Option(
        None, min=0, help=_RECLAIM_HELP + " (embedded emulator only)."
    ),
    emulator_ssh: bool = typer.Option(
        False,
        "--emulator-ssh",
        help="Let the embedded emulator accept SSH into its instances: commands run on this"
        " machine in a scratch directory (a development aid; NOVITA_EMULATOR_SSH).",
    ),
) -> None:
    """Run the API server (applies database migrations first)."""
    _set_reclaim_rate(emulator_reclaim_rate)
    if emulator_ssh:
        os.environ["NOVITA_EMULATOR_SSH"] = "true"  # read by the emulator, here or in its process
    overrides: dict[str, object] = {"host": host, "port": port}
    if emulator:
        overrides["novita_api_key"] = None
    settings = settings_or_exit(**overrides)
    if emulator and settings.novita_api_key is not None:
        settings = settings.model_copy(update={"novita_api_key": None})
    configure_logging(settings.log_level, settings.log_format)
    state = emulator_state_path(settings)
    if fresh_emulator:
        state.unlink(missing_ok=True)
    if workers > 1:
        _serve_workers(settings, workers, emulator_url, state)
        return
    # The event loop uvicorn would pick itself (uvloop where installed): twice as fast on I/O.
    loop_factory = auto_loop_factory()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory) as run:
        run.run(_serve(settings, emulator_url, state))


def emulator_state_path(settings: Settings) -> Path:
    """Where the embedded emulator keeps its world: next to the SQLite file, else ``./data``."""
    database = settings.sqlite_path
    folder = database.parent if database is not None else Path("data")
    return folder / "emulator-state.json"


class _Server(uvicorn.Server):
    """Sets ``serving`` and prints the banner once the socket accepts connections."""

    def __init__(self, config: uvicorn.Config, serving: asyncio.Event, settings: Settings) -> None:
        super().__init__(config)
        self.serving = serving
        self.settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.serving.set()
        if self.started:
            _print_banner(self.settings)


async def _serve(settings: Settings, emulator_url: str | None, state: Path) -> None:
    async with _upstream_for(settings, emulator_url, state) as effective:
        serving = asyncio.Event()
        config = uvicorn.Config(
            create_app(effective, AppOptions(serving=serving)),
            host=effective.host,
            port=effective.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            http=EnvelopeHttpToolsProtocol,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        await _Server(config, serving, effective).serve()


@contextlib.asynccontextmanager
async def _upstream_for(
    settings: Settings, emulator_url: str | None, state: Path
) -> AsyncIterator[Settings]:
    """Settings whose upstream is Novita, the given emulator, or an embedded one."""
    if not settings.emulator_mode:
        yield settings
        return
    if emulator_url:
        yield settings.model_copy(update={"novita_api_base_url": _api_url(emulator_url)})
        return
    config = EmulatorConfig.from_env()
    async with EmulatorServer(config, host="127.0.0.1", port=0, state_file=state) as server:
        yield settings.model_copy(update={"novita_api_base_url": server.api_url})


def _ssh_line(server: EmulatorServer) -> str:
    if server.ssh is None:
        return ""
    return (
        f"\nSSH:          127.0.0.1:{server.ssh.port} (development aid: commands run on this"
        " machine)"
    )


def _api_url(emulator_url: str) -> str:
    base = emulator_url.rstrip("/")
    return base if base.endswith("/gpu-instance/openapi") else f"{base}/gpu-instance/openapi"


def _print_banner(settings: Settings) -> None:
    """Say where the server listens and, loudly, when Novita is emulated."""
    url = f"http://{settings.host}:{settings.port}"
    if settings.emulator_mode:
        _console.print(
            Panel.fit(
                "[bold yellow]EMULATOR MODE[/]: NOVITA_API_KEY is not set, so instances are"
                f" simulated by the Novita emulator at {settings.novita_api_base_url}.\n"
                "Nothing is created or billed on Novita. Set NOVITA_API_KEY for real instances.",
                border_style="yellow",
            )
        )
    _console.print(f"novita-gpu listening on [bold]{url}[/] (docs at {url}/docs)")


def _serve_workers(settings: Settings, workers: int, emulator_url: str | None, state: Path) -> None:
    """Several server processes: the emulator (if any) runs in a process of its own."""
    from novita_gpu.db.migrate import upgrade

    upgrade(settings.database_url)
    with _emulator_process(settings, emulator_url, state) as url:
        env_url = url or str(settings.novita_api_base_url)
        os.environ["NOVITA_API_BASE_URL"] = env_url
        effective = settings.model_copy(update={"novita_api_base_url": env_url})
        _print_banner(effective)
        uvicorn.run(
            "novita_gpu.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_config=None,
            access_log=False,
            http=EnvelopeHttpToolsProtocol,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )


@contextlib.contextmanager
def _emulator_process(
    settings: Settings, emulator_url: str | None, state: Path
) -> Iterator[str | None]:
    if not settings.emulator_mode:
        yield None
        return
    if emulator_url:
        yield _api_url(emulator_url)
        return
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own executable and fixed arguments
        [
            *(sys.executable, "-m", "novita_gpu.cli", "emulator"),
            *("--port", str(port), "--quiet", "--state", str(state)),
        ]
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/_emulator/state")
        yield _api_url(base)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise typer.Exit(1)


def emulator(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(9100, help="Port."),
    quiet: bool = typer.Option(False, "--quiet", help="No banner."),
    state: str | None = typer.Option(
        None, help="Keep the world in this JSON file across restarts."
    ),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore (and replace) the --state file."),
    shapes: str | None = typer.Option(
        None, help="Response shape set: default, docs, sdk or hostile (NOVITA_EMULATOR_SHAPES)."
    ),
    reclaim_rate: float | None = typer.Option(None, min=0, help=_RECLAIM_HELP + "."),
    ssh: bool = typer.Option(
        False,
        "--ssh",
        help="Accept SSH into instances: commands run on this machine in a scratch directory"
        " (a development aid; NOVITA_EMULATOR_SSH).",
    ),
) -> None:
    """Run the Novita emulator alone (a fake Novita API for tests and demos)."""
    _set_reclaim_rate(reclaim_rate)
    if ssh:
        os.environ["NOVITA_EMULATOR_SSH"] = "true"
    configure_logging("warning")
    try:
        config = EmulatorConfig.from_env()
        if shapes:
            config.shapes = Shapes.named(shapes)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    state_file = Path(state) if state else None
    if fresh and state_file is not None:
        state_file.unlink(missing_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_emulator(config, host, port, quiet, state_file))


async def _run_emulator(
    config: EmulatorConfig, host: str, port: int, quiet: bool, state: Path | None
) -> None:
    async with EmulatorServer(config, host=host, port=port, state_file=state) as server:
        if not quiet:
            _console.print(
                Panel.fit(
                    f"Novita emulator at [bold]{server.base_url}[/]\n"
                    f"API base URL: {server.api_url}   (use as NOVITA_API_BASE_URL)\n"
                    f"Admin API:    {server.base_url}/_emulator/state" + _ssh_line(server),
                    border_style="cyan",
                )
            )
        await asyncio.Event().wait()
