"""Help text and output meant for people and for pipes: no ``<bool>`` after flags, URLs not
folded when piped, ``./dev help`` prints only its help."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from novita_gpu.cli import render
from novita_gpu.cli.main import app, widen_when_piped
from novita_gpu.client import Instance

ROOT = Path(__file__).resolve().parents[2]
LONG_URL = "https://" + "a" * 150 + ".gpu-instance.novita.ai/lab?token=" + "b" * 40


def test_flags_show_no_type_and_options_keep_theirs() -> None:
    result = CliRunner().invoke(app, ["instances", "create", "--help"], env={"COLUMNS": "160"})

    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    assert "--wait" in result.stdout
    assert "<float range>" in result.stdout


def test_piped_output_keeps_a_long_url_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(render, "console", Console(highlight=False, force_terminal=False))
    instance = Instance.model_validate(
        {"id": "inst_1", "name": "x", "status": "ready", "connectionDetails": {"jupyter": LONG_URL}}
    )

    widen_when_piped()  # pytest captures stdout: not a terminal
    with render.console.capture() as captured:
        render.console.print(render.connection_panel(instance))

    assert LONG_URL in captured.get()


def test_dev_help_prints_only_the_help() -> None:
    result = subprocess.run(
        [str(ROOT / "dev"), "help"], capture_output=True, text=True, check=True, timeout=30
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Developer entry point")
    assert all(not line.startswith(("#", "set ")) for line in lines)
    assert any("./dev test" in line for line in lines)
