"""The console-script entry point.

``serve`` and ``emulator`` run from a group that holds only them, so starting the server does
not import the client commands (the SDK, its SSH library, the table rendering): a cold start
serves sooner. Their options, help and errors are the same as in the full command line.

While a server command imports its modules the cyclic garbage collector is paused: importing
FastAPI, SQLAlchemy and the pydantic models creates hundreds of thousands of objects that all
live as long as the process, and collecting among them is about a fifth of the import's CPU.
Afterwards they are moved out of the collector's sight (``gc.freeze``) and it runs as usual.
``serve`` also starts loading the CA bundle for its outbound clients on another thread first
(:mod:`novita_gpu.core.tls`), so that work overlaps the imports.
"""

from __future__ import annotations

import gc
import sys

SERVER_COMMANDS = frozenset({"serve", "emulator"})


def run() -> None:
    """Run ``novita-gpu`` with the process's arguments."""
    if len(sys.argv) > 1 and sys.argv[1] in SERVER_COMMANDS:
        gc.disable()
        try:
            if sys.argv[1] == "serve":
                from novita_gpu.core import tls

                tls.prepare_in_background()
            from novita_gpu.cli.group import add_server_commands, new_app

            app = new_app()
            add_server_commands(app)
        finally:
            gc.freeze()
            gc.enable()
        app()
        return
    from novita_gpu.cli.main import run as run_full

    run_full()
