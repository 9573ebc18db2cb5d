"""The ``novita-gpu`` command line: serve, emulator, db; instances, events, products, run."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperOption

from novita_gpu import __version__
from novita_gpu.cli import autostop as autostop_commands
from novita_gpu.cli import db as db_commands
from novita_gpu.cli import doctor as doctor_command
from novita_gpu.cli import events as event_commands
from novita_gpu.cli import instances as instance_commands
from novita_gpu.cli import products as product_commands
from novita_gpu.cli import render
from novita_gpu.cli import run as run_command
from novita_gpu.cli import server as server_commands
from novita_gpu.cli import tokens as token_commands
from novita_gpu.cli.remote import EXIT_CODES_HELP

app = typer.Typer(
    name="novita-gpu",
    help="Control plane for GPU instances on Novita.ai.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(server_commands.serve)
app.command("emulator")(server_commands.emulator)
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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"novita-gpu {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Control plane for GPU instances on Novita.ai."""


def _untyped_flags() -> None:
    """Show no ``<bool>`` after flags in ``--help``: it reads as if ``--wait`` took a value.

    typer renders every option's type; a flag's metavar, when set, replaces it.
    """
    original = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else original(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


PIPED_WIDTH = 1000


def widen_when_piped() -> None:
    """Output read by another program is never folded: a long URL stays on one line.

    Rich folds at 80 columns when stdout is not a terminal; ``COLUMNS`` still wins if set.
    """
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        render.console.width = PIPED_WIDTH


_untyped_flags()


def run() -> None:
    """Console-script entry point."""
    widen_when_piped()
    app()
