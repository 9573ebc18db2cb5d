"""What needs no server: usage errors (exit 2), an unreachable server (exit 5), the exit-code
table and help text, and the real entry point as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from novita_gpu.cli.main import app
from novita_gpu.cli.remote import exit_code
from novita_gpu.client import (
    AuthenticationError,
    ConflictError,
    Instance,
    InstanceFailedError,
    InvalidResponseError,
    NetworkError,
    NoCapacityError,
    NotFoundError,
    NovitaGPUError,
    RateLimitedError,
    SpendLimitError,
    UpstreamError,
    ValidationError,
    WaitTimeout,
)

DEAD_URL = "http://127.0.0.1:9"  # discard port: nothing listens
INSTANCE = Instance(id="inst_1", name="x", status="failed")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"NOVITA_GPU_URL": DEAD_URL})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("instances", "get"), id="no-reference"),
        pytest.param(("instances", "get", "inst_1", "--name", "x"), id="both-references"),
        pytest.param(("instances", "stop"), id="stop-without-reference"),
        pytest.param(("events",), id="events-without-follow-or-instance"),
        pytest.param(("events", "--instance", "a", "--name", "b"), id="events-both"),
        pytest.param(
            ("instances", "create", "-n", "x", "-p", "p", "-t", "t", "-e", "NOEQUALS"), id="bad-env"
        ),
        pytest.param(("instances", "create", "-n", "x"), id="missing-options"),
        pytest.param(("instances", "list", "--limit", "0"), id="out-of-range"),
    ],
)
def test_usage_errors_exit_2_without_calling_the_server(args: tuple[str, ...]) -> None:
    code, stdout, stderr = invoke(*args)
    assert code == 2
    assert "Traceback" not in stdout + stderr
    assert stderr


def test_an_unreachable_server_exits_5_with_one_line() -> None:
    code, stdout, stderr = invoke("instances", "list")
    assert code == 5
    assert stdout == ""
    assert stderr.startswith(f"error: NETWORK_ERROR: request to {DEAD_URL} failed")
    assert stderr.count("\n") == 1


def test_the_url_option_wins_over_the_environment() -> None:
    result = CliRunner().invoke(
        app,
        ["products", "--url", "http://127.0.0.1:7", "--json"],
        env={"NOVITA_GPU_URL": DEAD_URL},
    )
    assert result.exit_code == 5
    assert json.loads(result.stdout)["error"]["code"] == "NETWORK_ERROR"
    assert "127.0.0.1:7 " in result.stderr


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(ValidationError("x"), 2, id="validation"),
        pytest.param(AuthenticationError("x"), 2, id="auth"),
        pytest.param(NotFoundError("x"), 3, id="not-found"),
        pytest.param(ConflictError("x"), 4, id="conflict"),
        pytest.param(SpendLimitError("x"), 4, id="spend"),
        pytest.param(UpstreamError("x"), 5, id="upstream"),
        pytest.param(NetworkError("x"), 5, id="network"),
        pytest.param(RateLimitedError("x"), 5, id="rate-limited"),
        pytest.param(NoCapacityError("x"), 5, id="no-capacity"),
        pytest.param(WaitTimeout("x", instance=INSTANCE, code="WAIT_TIMEOUT"), 6, id="timeout"),
        pytest.param(InstanceFailedError("x", instance=INSTANCE, code="F"), 6, id="failed"),
        pytest.param(InvalidResponseError("x"), 1, id="invalid-response"),
        pytest.param(NovitaGPUError("x"), 1, id="other"),
    ],
)
def test_exit_codes(error: NovitaGPUError, code: int) -> None:
    assert exit_code(error) == code


@pytest.mark.parametrize(
    "command",
    [("instances",), ("instances", "create"), ("instances", "get"), ("events",), ("products",)],
)
def test_help_documents_exit_codes_and_environment(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Exit codes: 0 ok" in result.stdout
    if command != ("instances",):
        assert "NOVITA_GPU_URL" in result.stdout


def test_the_installed_entry_point_reports_errors_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "novita_gpu.cli", "instances", "get", "inst_1", "--url", DEAD_URL],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 5
    assert result.stderr.startswith("error: NETWORK_ERROR: ")
    assert "Traceback" not in result.stderr
