"""Apply Alembic migrations programmatically (``novita-gpu db upgrade`` and ``serve``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for this package's migrations and the given database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``. Safe to run repeatedly and from several replicas
    (PostgreSQL serialises concurrent upgrades on an advisory lock in ``env.py``)."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """:func:`upgrade` from inside a running event loop (Alembic's env runs its own loop)."""
    await asyncio.to_thread(upgrade, database_url, revision)
