"""``serve`` and ``emulator`` start from a group without the client commands: the same options
and help as in the full command line, without importing the SDK or Alembic."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from novita_gpu.cli.group import add_server_commands, new_app
from novita_gpu.cli.main import app as full_app

_PROBE = """
import sys
sys.argv = ["novita-gpu", "serve", "--help"]
from novita_gpu.cli.launch import run
try:
    run()
except SystemExit:
    pass
print("LOADED", sorted(m for m in ("novita_gpu.client", "alembic", "asyncssh") if m in sys.modules))
"""


def test_server_commands_show_the_same_help_as_in_the_full_command_line() -> None:
    servers = new_app()
    add_server_commands(servers)
    for command in ("serve", "emulator"):
        alone = CliRunner().invoke(servers, [command, "--help"], prog_name="novita-gpu")
        full = CliRunner().invoke(full_app, [command, "--help"], prog_name="novita-gpu")
        assert alone.exit_code == full.exit_code == 0
        assert alone.stdout == full.stdout


def test_serve_loads_neither_the_client_nor_alembic() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--emulator-url" in result.stdout
    assert "LOADED []" in result.stdout
