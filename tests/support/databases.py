"""Test databases: a fresh SQLite file per test (copied from a migrated template), or, when
``TEST_DATABASE_URL`` is set, a PostgreSQL database per xdist worker emptied before each test."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from novita_gpu.db.engine import create_engine
from novita_gpu.db.migrate import upgrade
from novita_gpu.db.models import Base

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def using_postgres() -> bool:
    return bool(POSTGRES_URL)


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file to copy for each test."""
    path = directory / "template.db"
    if not path.exists():
        upgrade(f"sqlite:///{path}")
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / "novita-gpu.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def postgres_worker_url(worker: str) -> str:
    """Create (once) and migrate the worker's own database; return its URL."""
    assert POSTGRES_URL
    base = make_url(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    name = f"{base.database}_{worker}"
    admin = base.set(database="postgres").render_as_string(hide_password=False)
    asyncio.run(_create_database(admin, name))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def truncate_all(url: str) -> None:
    """Empty every table (PostgreSQL) so each test starts clean."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def _admin_url() -> str:
    assert POSTGRES_URL
    base = make_url(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    return base.set(database="postgres").render_as_string(hide_password=False)


async def create_database(name: str) -> None:
    """A new, empty PostgreSQL database on the test server."""
    await _create_database(_admin_url(), name)


async def drop_database(name: str) -> None:
    engine = create_engine(_admin_url())
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
