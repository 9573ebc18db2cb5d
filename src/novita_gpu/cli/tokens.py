"""``novita-gpu tokens``: API tokens stored (hashed) in the database.

Run on the server's host: it talks to DATABASE_URL directly. ``create`` prints the token once;
only its SHA-256 digest is stored.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from novita_gpu.auth.scopes import Scope
from novita_gpu.auth.tokens import TokenRepository
from novita_gpu.cli.common import settings_or_exit
from novita_gpu.db.engine import Database
from novita_gpu.db.migrate import upgrade

app = typer.Typer(help="API tokens kept (hashed) in the database.", no_args_is_help=True)


def _database() -> Database:
    settings = settings_or_exit()
    upgrade(settings.database_url)
    return Database.from_url(settings.database_url)


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="What the token is for."),
    scope: Annotated[Scope, typer.Option("--scope", help="read: GET only; admin: all.")] = (
        Scope.ADMIN
    ),
) -> None:
    """Create a token and print it (it cannot be shown again)."""

    async def run() -> str:
        db = _database()
        try:
            async with db.write() as session, session.begin():
                row, token = await TokenRepository(session).create(name, scope)
            typer.echo(
                f"created {row.id} ({name}, {scope.value}); the token follows, keep it now:",
                err=True,
            )
            return token
        finally:
            await db.dispose()

    typer.echo(asyncio.run(run()))


@app.command("list")
def list_tokens() -> None:
    """Tokens by id, name and state (never the token itself)."""

    async def run() -> None:
        db = _database()
        try:
            async with db.read() as session:
                rows = await TokenRepository(session).all()
        finally:
            await db.dispose()
        table = Table("id", "name", "scope", "created", "revoked")
        for row in rows:
            revoked = row.revoked_at.isoformat() if row.revoked_at else ""
            table.add_row(row.id, row.name, row.scope, row.created_at.isoformat(), revoked)
        Console().print(table)

    asyncio.run(run())


@app.command("revoke")
def revoke(token_id: str = typer.Argument(..., help="The token's id (tok_...).")) -> None:
    """Revoke a token; servers stop accepting it within seconds."""

    async def run() -> bool:
        db = _database()
        try:
            async with db.write() as session, session.begin():
                return await TokenRepository(session).revoke(token_id)
        finally:
            await db.dispose()

    if not asyncio.run(run()):
        typer.secho(f"error: no active token {token_id}", fg=typer.colors.RED, err=True)
        raise typer.Exit(3)
    typer.echo(f"revoked {token_id}")
