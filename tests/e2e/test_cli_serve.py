"""The commands a newcomer runs: ``serve`` with no key, ``emulator``, ``db upgrade``, and what
bad configuration looks like. Each runs as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.support.live import free_port

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "novita_gpu.cli"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOVITA", "WEBHOOK", "API_"))}
    env.update(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "LOG_LEVEL": "warning", **extra}
    )
    return env


def wait_for(url: str, process: subprocess.Popen[str], timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited: {process.communicate()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def stop_later() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.returncode is None:
            process.terminate()
            process.communicate(timeout=15)


def start(
    args: list[str], env: dict[str, str], into: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    into.append(process)
    return process


def test_serve_without_key_runs_the_embedded_emulator(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    process = start(["serve", "--port", str(port)], clean_env(tmp_path), stop_later)
    health = wait_for(f"http://127.0.0.1:{port}/health", process).json()
    assert health["mode"] == "emulator"
    assert health["services"]["database"] == "up"
    openapi = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
    assert "/api/instances" in openapi["paths"]
    created = httpx.post(
        f"http://127.0.0.1:{port}/api/instances",
        json={"name": "first-try", "productName": "RTX 4090 24GB", "templateId": "pytorch-jupyter"},
    )
    assert created.status_code == 201
    process.terminate()
    _, stderr = process.communicate(timeout=15)
    assert "EMULATOR MODE" in stderr
    assert (tmp_path / "cli.db").exists()


def test_emulator_command_serves_documented_shapes(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    process = start(["emulator", "--port", str(port)], clean_env(tmp_path), stop_later)
    base = f"http://127.0.0.1:{port}/gpu-instance/openapi/v1"
    wait_for(f"http://127.0.0.1:{port}/_emulator/state", process)
    headers = {"Authorization": "Bearer sk_test"}
    products = httpx.get(f"{base}/products", headers=headers).json()["data"]
    assert isinstance(products[0]["price"], int)
    assert products[0]["regions"][0].endswith(")")
    missing = httpx.get(f"{base}/gpu/instance", params={"instanceId": "0" * 16}, headers=headers)
    assert missing.status_code == 400
    assert set(missing.json()) == {"code", "reason", "message", "metadata"}
    assert missing.json()["reason"] == "RESOURCE_NOT_FOUND"
    assert httpx.get(f"{base}/products").status_code == 401


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"PORT": "not-a-port"}, "PORT", id="port"),
        pytest.param({"REQUEST_TIMEOUT": "-5"}, "REQUEST_TIMEOUT", id="timeout"),
        pytest.param({"HOST": "0.0.0.0"}, "HOST", id="public-without-tokens"),
        pytest.param({"DATABASE_URL": "mysql://x"}, "DATABASE_URL", id="database"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = subprocess.run(
        [*CLI, "serve"], env=clean_env(tmp_path, **env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_db_upgrade_is_repeatable(tmp_path: Path) -> None:
    for _ in range(2):
        result = subprocess.run(
            [*CLI, "db", "upgrade"],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "cli.db").exists()


def test_version() -> None:
    result = subprocess.run([*CLI, "--version"], capture_output=True, text=True, timeout=30)
    assert result.stdout.startswith("novita-gpu ")


def wait_for_status(base: str, instance_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = httpx.get(f"{base}/api/instances/{instance_id}", timeout=5).json()["status"]
        if seen == status:
            return
        time.sleep(0.2)
    raise AssertionError(f"{instance_id} is {seen}, never {status}")


def test_restarting_serve_keeps_emulated_instances(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(tmp_path, INSTANCE_POLL_INTERVAL="1")
    first = start(["serve", "--port", str(port)], env, stop_later)
    wait_for(f"{base}/health", first)
    body = {
        "name": "survivor",
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
        "healthCheck": {"enabled": False},
    }
    instance_id = httpx.post(f"{base}/api/instances", json=body).json()["instanceId"]
    wait_for_status(base, instance_id, "ready")
    first.terminate()
    first.communicate(timeout=15)
    assert (tmp_path / "emulator-state.json").exists()

    second = start(["serve", "--port", str(port)], env, stop_later)
    wait_for(f"{base}/health", second)
    restarted = time.time()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until a full status-sync pass ran in the new process
        health = httpx.get(f"{base}/health").json()
        full = health["milestones"].get("status_sync:full", {}).get("at")
        if full and datetime.fromisoformat(full).timestamp() > restarted:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no status-sync pass after the restart")
    assert httpx.get(f"{base}/api/instances/{instance_id}").json()["status"] == "ready"
    assert health["upstream"]["lastSync"]["seen"] == 1
