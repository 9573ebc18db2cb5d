"""``novita-gpu run`` as a real subprocess against the service and the emulator (SSH on):
transfers, streamed output, the remote exit status, and no instance left behind after an
exit, Ctrl-C or SIGTERM, whichever phase it lands in."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.test_ephemeral_sdk import deleted_only
from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveStack]:
    # "fast" timings: the wait for ready lasts a few seconds, long enough to interrupt it.
    async with live_stack(tmp_path, preset="fast", ssh=True) as stack:
        yield stack


async def start_run(
    live: LiveStack, cwd: Path, name: str, *args: str
) -> asyncio.subprocess.Process:
    env = {**os.environ, "NOVITA_GPU_URL": live.url, "COLUMNS": "200"}
    env.pop("NOVITA_GPU_TOKEN", None)
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "novita_gpu.cli", "run", "--name", name),
        *("--product", "RTX 4090 24GB", "--max-runtime", "30m", *args),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("code", [0, 3])
async def test_a_job_uploads_runs_downloads_and_deletes(
    live: LiveStack, tmp_path: Path, code: int
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "hello.txt").write_text("hello gpu\n")
    script = (
        f"mkdir -p out && wc -c < in/hello.txt > out/n.txt; echo one; echo two >&2; exit {code}"
    )
    name = f"cli-exit-{code}"
    process = await start_run(
        live, tmp_path, name, "--upload", "in:in", "--download", "out:out", "--", "sh", "-c", script
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == code, stderr.decode()
    assert stdout.decode() == "one\n"
    report = stderr.decode()
    assert "two\n" in report
    for phase in ("creating", "waiting", "uploading", "running", "downloading", "deleting"):
        assert f"✓ {phase}" in report
    assert f"exit status {code} in" in report
    assert "cost $" in report
    assert (tmp_path / "out" / "n.txt").read_text().strip() == "10"
    assert await deleted_only(live, name)


async def read_until(process: asyncio.subprocess.Process, marker: str) -> None:
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while marker not in (await process.stderr.readline()).decode():
            pass


@pytest.mark.parametrize(
    ("sig", "phase", "code"),
    [
        pytest.param(signal.SIGINT, "waiting", 130, id="sigint-waiting"),
        pytest.param(signal.SIGTERM, "waiting", 143, id="sigterm-waiting"),
        pytest.param(signal.SIGINT, "running", 130, id="sigint-running"),
        pytest.param(signal.SIGTERM, "running", 143, id="sigterm-running"),
    ],
)
async def test_an_interrupted_job_leaves_nothing_behind(
    live: LiveStack, tmp_path: Path, sig: signal.Signals, phase: str, code: int
) -> None:
    name = f"cli-{sig.name.lower()}-{phase}"
    process = await start_run(live, tmp_path, name, "--", "echo started; sleep 60")
    await read_until(process, "… running" if phase == "running" else "… waiting")
    if phase == "running":
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"started\n"
    process.send_signal(sig)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == code, stderr.decode()
    assert "✓ deleting" in stderr.decode()
    assert await deleted_only(live, name)
