"""The ``novita-gpu`` command line: serve, emulator, db; instances, events, products, run."""

from __future__ import annotations

import os
import sys

from novita_gpu.cli import autostop as autostop_commands
from novita_gpu.cli import db as db_commands
from novita_gpu.cli import doctor as doctor_command
from novita_gpu.cli import events as event_commands
from novita_gpu.cli import instances as instance_commands
from novita_gpu.cli import products as product_commands
from novita_gpu.cli import render
from novita_gpu.cli import run as run_command
from novita_gpu.cli import tokens as token_commands
from novita_gpu.cli.group import add_server_commands, new_app
from novita_gpu.cli.remote import EXIT_CODES_HELP

app = new_app()
add_server_commands(app)
app.add_typer(db_commands.app, name="db")
app.add_typer(token_commands.app, name="tokens")
app.add_typer(instance_commands.app, name="instances")
app.add_typer(autostop_commands.app, name="autostop")
app.command("events", epilog=EXIT_CODES_HELP)(event_commands.events)
app.command("products", epilog=EXIT_CODES_HELP)(product_commands.products)
app.command("doctor")(doctor_command.doctor)
app.command(
    "run",
    epilog=run_command.RUN_HELP,
    context_settings={"allow_interspersed_args": False},
)(run_command.run_job)


PIPED_WIDTH = 1000


def widen_when_piped() -> None:
    """Output read by another program is never folded: a long URL stays on one line.

    Rich folds at 80 columns when stdout is not a terminal; ``COLUMNS`` still wins if set.
    """
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        render.console.width = PIPED_WIDTH


def run() -> None:
    """Console-script entry point."""
    widen_when_piped()
    app()
