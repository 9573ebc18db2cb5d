"""Cold start: from spawning ``novita-gpu serve`` to its first served request.

Each run spawns ``python -m novita_gpu.cli serve`` on a free port with a fresh SQLite file in a
temporary directory and no ``NOVITA_API_KEY`` (so the embedded emulator starts too), and
measures the wall time until ``GET /health/live`` first answers 200, then until
``GET /api/instances`` does; then it stops that server and starts it again on the same files
(the everyday restart: the database exists) and times its first ``GET /health/live``. The
baseline, measured in the same run and started the same way, is a bare Starlette app on uvicorn
(``bench.ceiling_server``): the time to start Python, import uvicorn and Starlette and serve.
Runs alternate between the two; median and max are printed next to the goal (<= 2 s to the
first served request).

The package's bytecode is compiled first, as any first start leaves it (the libraries' was
compiled when they were installed), so that an environment that sets
``PYTHONDONTWRITEBYTECODE`` does not make every measured start compile the project's sources.

Usage: ./dev bench cold_start [runs]
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._support import ROOT, free_port, print_table

GOAL_SECONDS = 2.0
TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.005


def _wait_for(client: httpx.Client, url: str, started: float) -> float:
    """Seconds from ``started`` until ``url`` first answers 200."""
    deadline = started + TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        try:
            if client.get(url).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{url} did not answer 200 within {TIMEOUT_SECONDS:.0f} s")


def _spawn(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, started


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _environment(directory: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOVITA_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{directory / 'novita.db'}",
            "BENCH_CONSTANT_DIR": str(directory),
            "LOG_LEVEL": "warning",
        }
    )
    env.pop("PORT", None)
    return env


def ours_once() -> tuple[float, float, float]:
    """Seconds to /health/live and to /api/instances for one ``serve`` on new files, then to
    /health/live for a restart on the same files."""
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(timeout=5) as client:
        live, listed = _serve_once(client, Path(tmp), "/health/live", "/api/instances")
        (restarted,) = _serve_once(client, Path(tmp), "/health/live")
    return live, listed, restarted


def _serve_once(client: httpx.Client, directory: Path, *paths: str) -> list[float]:
    port = free_port()
    command = [sys.executable, "-m", "novita_gpu.cli", "serve", "--port", str(port)]
    process, started = _spawn(command, _environment(directory))
    try:
        return [_wait_for(client, f"http://127.0.0.1:{port}{path}", started) for path in paths]
    finally:
        _stop(process)


def baseline_once() -> float:
    """Seconds to the first /health/live of bare Starlette on uvicorn, started the same way."""
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(timeout=5) as client:
        port = free_port()
        command = [sys.executable, "-m", "bench.ceiling_server", str(port)]
        process, started = _spawn(command, _environment(Path(tmp)))
        try:
            return _wait_for(client, f"http://127.0.0.1:{port}/health/live", started)
        finally:
            _stop(process)


def _row(name: str, values: list[float], goal: str, baseline: float | None) -> list[str]:
    median = statistics.median(values)
    ratio = f"{median / baseline:.1f}x" if baseline else "-"
    return [name, f"{median:.2f}", f"{max(values):.2f}", goal, ratio]


def main(runs: int) -> None:
    compileall.compile_dir(ROOT / "src" / "novita_gpu", quiet=1)
    live: list[float] = []
    listed: list[float] = []
    restarts: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        bare.append(baseline_once())
        first, second, restarted = ours_once()
        live.append(first)
        listed.append(second)
        restarts.append(restarted)
    base = statistics.median(bare)
    print_table(
        f"cold start, {runs} runs each (alternating), embedded emulator, SQLite: a new file,"
        " then a restart on it; baseline = bare Starlette on uvicorn started the same way,"
        " same run",
        ["spawn -> first 200", "median s", "max s", "goal", "vs baseline"],
        [
            _row("serve: GET /health/live", live, f"<= {GOAL_SECONDS:.0f} s", base),
            _row("serve: GET /api/instances", listed, "-", base),
            _row("serve again: GET /health/live", restarts, f"<= {GOAL_SECONDS:.0f} s", base),
            _row("baseline: bare Starlette", bare, "-", None),
        ],
    )
    print(f"\nload average: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
