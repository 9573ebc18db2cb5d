"""Apply Alembic migrations programmatically (``novita-gpu db upgrade`` and ``serve``).

Alembic is imported only when a migration runs: a server whose database is already at the
newest revision checks that with one query (:func:`ensure_schema`) and starts without it, and a
brand-new SQLite file gets the newest schema from the models, stamped with the head revision
(Alembic's own recipe for new databases; a test keeps both schemas equal).
"""

from __future__ import annotations

import asyncio
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from novita_gpu.db.engine import create_engine, for_writes, is_sqlite
from novita_gpu.db.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision(?:: str)? = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision(?:: [^=]+)? = (?:"([^"]+)"|None)$', re.MULTILINE)


def alembic_config(database_url: str) -> Config:
    """An Alembic config for this package's migrations and the given database URL."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``. Safe to run repeatedly and from several replicas
    (PostgreSQL serialises concurrent upgrades on an advisory lock in ``env.py``)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """:func:`upgrade` from inside a running event loop (Alembic's env runs its own loop)."""
    await asyncio.to_thread(upgrade, database_url, revision)


@cache
def head_revision() -> str:
    """The newest migration's revision id, read from the version files' text.

    Raises ``RuntimeError`` unless the files form one line of revisions (one head).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text()
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None and down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {sorted(heads)}")
    return heads.pop()


async def schema_revisions(database_url: str) -> set[str]:
    """The revisions recorded in the database (empty when it was never migrated)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows}
    except DBAPIError:
        return set()
    finally:
        await engine.dispose()


async def ensure_schema(database_url: str) -> bool:
    """Migrate the database to the newest revision unless it is there already; True if a
    migration ran. The check is one query; when it runs, Alembic decides everything as before
    (a database at a revision this release does not know still fails the same way)."""
    revisions = await schema_revisions(database_url)
    if revisions == {head_revision()}:
        return False
    if not revisions and await create_new_sqlite_schema(database_url):
        return True
    await upgrade_async(database_url)
    return True


# Alembic's version table, as Alembic creates it.
_VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


async def create_new_sqlite_schema(database_url: str) -> bool:
    """Give a SQLite database that has no tables at all the newest schema, recorded as the head
    revision, in one write transaction; True if it did. Anything else (PostgreSQL, or a file
    with any table in it, e.g. one another process is creating) is left to Alembic: False."""
    engine = create_engine(database_url)
    try:
        if not is_sqlite(engine):
            return False
        async with for_writes(engine).begin() as connection:
            return await connection.run_sync(_create_if_empty)
    finally:
        await engine.dispose()


def _create_if_empty(connection: Connection) -> bool:
    tables = connection.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    if tables.scalar_one():
        return False
    Base.metadata.create_all(connection)
    _VERSION_TABLE.create(connection)
    connection.execute(_VERSION_TABLE.insert().values(version_num=head_revision()))
    return True
