"""``novita-gpu tokens``: API tokens stored (hashed) in the database.

Run on the server's host: it talks to DATABASE_URL directly. ``create`` prints the token once;
only its SHA-256 digest is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from novita_gpu.auth.tokens import TokenRepository
from novita_gpu.cli.common import settings_or_exit
from novita_gpu.db.engine import Database
from novita_gpu.db.migrate import upgrade

app = typer.Typer(help="API tokens kept (hashed) in the database.", no_args_is_help=True)

T = TypeVar("T")


def _with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Migrate DATABASE_URL, then run ``work`` on a fresh engine in a new event loop.

    The migration runs first and outside the loop: Alembic's environment starts its own
    ``asyncio.run``, which cannot nest inside ours.
    """
    settings = settings_or_exit()
    upgrade(settings.database_url)

    async def run() -> T:
        db = Database.from_url(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


@app.command("create")
def create(name: str = typer.Option(..., "--name", help="What the token is for.")) -> None:
    """Create a token and print it (it cannot be shown again)."""

    async def work(db: Database) -> tuple[str, str]:
        async with db.write() as session, session.begin():
            row, token = await TokenRepository(session).create(name)
        return row.id, token

    token_id, token = _with_database(work)
    typer.echo(f"created {token_id} ({name}); the token follows, keep it now:", err=True)
    typer.echo(token)


@app.command("list")
def list_tokens() -> None:
    """Tokens by id, name and state (never the token itself)."""

    async def work(db: Database) -> list[tuple[str, str, str, str]]:
        async with db.read() as session:
            rows = await TokenRepository(session).all()
        return [
            (
                r.id,
                r.name,
                r.created_at.isoformat(),
                r.revoked_at.isoformat() if r.revoked_at else "",
            )
            for r in rows
        ]

    table = Table("id", "name", "created", "revoked")
    for row in _with_database(work):
        table.add_row(*row)
    Console().print(table)


@app.command("revoke")
def revoke(token_id: str = typer.Argument(..., help="The token's id (tok_...).")) -> None:
    """Revoke a token; servers stop accepting it within seconds."""

    async def work(db: Database) -> bool:
        async with db.write() as session, session.begin():
            return await TokenRepository(session).revoke(token_id)

    if not _with_database(work):
        typer.secho(f"error: no active token {token_id}", fg=typer.colors.RED, err=True)
        raise typer.Exit(3)
    typer.echo(f"revoked {token_id}")
