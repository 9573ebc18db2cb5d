"""``novita-gpu db``: schema migrations."""

from __future__ import annotations

import typer

from novita_gpu.cli.common import settings_or_exit
from novita_gpu.db.migrate import upgrade

app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Target revision."),
) -> None:
    """Apply schema migrations to DATABASE_URL (safe to repeat)."""
    settings = settings_or_exit()
    upgrade(settings.database_url, revision)
    typer.echo(f"database is at revision {revision}: {_redacted(settings.database_url)}")


def _redacted(url: str) -> str:
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
