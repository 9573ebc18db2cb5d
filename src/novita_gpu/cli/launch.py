"""The console-script entry point.

``serve`` and ``emulator`` run from a group that holds only them, so starting the server does
not import the client commands (the SDK, its SSH library, the table rendering): a cold start
serves sooner. Their options, help and errors are the same as in the full command line.
"""

from __future__ import annotations

import sys

SERVER_COMMANDS = frozenset({"serve", "emulator"})


def run() -> None:
    """Run ``novita-gpu`` with the process's arguments."""
    if len(sys.argv) > 1 and sys.argv[1] in SERVER_COMMANDS:
        from novita_gpu.cli.group import add_server_commands, new_app

        app = new_app()
        add_server_commands(app)
        app()
        return
    from novita_gpu.cli.main import run as run_full

    run_full()
