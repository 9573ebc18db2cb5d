"""``serve`` migrates only when the schema is not at the newest revision (one query), the
newest revision read from the version files' text is Alembic's own head, and a new SQLite file
built from the models has exactly the schema the migrations build."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory

from novita_gpu.db.migrate import (
    alembic_config,
    create_new_sqlite_schema,
    ensure_schema,
    head_revision,
    schema_revisions,
    upgrade,
)


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert [head_revision()] == script.get_heads()


async def test_a_new_database_is_migrated_then_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert await schema_revisions(url) == set()
    assert await ensure_schema(url)
    assert await schema_revisions(url) == {head_revision()}
    assert not await ensure_schema(url)


async def test_a_database_behind_the_head_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0001")
    assert await schema_revisions(url) == {"0001"}
    assert await ensure_schema(url)
    assert await schema_revisions(url) == {head_revision()}


def _schema(path: Path) -> dict[str, object]:
    """Each table's columns, indexes (with their columns) and foreign keys, order-free."""
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        shape: dict[str, object] = {}
        for table in tables:
            columns = {row[1:] for row in connection.execute(f"PRAGMA table_info('{table}')")}
            indexes = {
                (
                    row[1],
                    row[2],
                    tuple(c[2] for c in connection.execute(f"PRAGMA index_info('{row[1]}')")),
                )
                for row in connection.execute(f"PRAGMA index_list('{table}')")
            }
            keys = {row[2:] for row in connection.execute(f"PRAGMA foreign_key_list('{table}')")}
            shape[table] = (columns, indexes, keys)
        return shape


async def test_a_new_sqlite_file_gets_the_schema_the_migrations_build(tmp_path: Path) -> None:
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"
    await asyncio.to_thread(upgrade, f"sqlite:///{migrated}")
    assert await create_new_sqlite_schema(f"sqlite:///{created}")
    assert await schema_revisions(f"sqlite:///{created}") == {head_revision()}
    assert _schema(created) == _schema(migrated)


async def test_a_file_with_tables_is_left_to_the_migrations(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    assert not await create_new_sqlite_schema(f"sqlite:///{path}")
    assert await ensure_schema(f"sqlite:///{path}")
    assert await schema_revisions(f"sqlite:///{path}") == {head_revision()}


async def test_two_processes_starting_on_one_new_file_both_end_at_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    await asyncio.gather(ensure_schema(url), ensure_schema(url))
    assert await schema_revisions(url) == {head_revision()}
