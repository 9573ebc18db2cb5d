"""The ``novita-gpu`` command group itself: its name, help, ``--version`` and flag display.

Shared by the full command line (:mod:`novita_gpu.cli.main`) and the server commands' own
entry (:mod:`novita_gpu.cli.launch`), so both behave the same.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperOption

from novita_gpu import __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"novita-gpu {__version__}")
        raise typer.Exit()


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


def new_app() -> typer.Typer:
    """An empty ``novita-gpu`` group; the caller adds its commands."""
    app = typer.Typer(
        name="novita-gpu",
        help="Control plane for GPU instances on Novita.ai.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(main)
    return app


def add_server_commands(app: typer.Typer) -> None:
    """``serve`` and ``emulator``."""
    from novita_gpu.cli import server

    app.command("serve")(server.serve)
    app.command("emulator")(server.emulator)


_untyped_flags()
