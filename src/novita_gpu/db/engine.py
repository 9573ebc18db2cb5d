"""Engine and session factories for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout. Its transactions are started explicitly:
``BEGIN`` for read sessions and ``BEGIN IMMEDIATE`` for write sessions, so two writers queue
on the write lock instead of failing with ``SQLITE_BUSY`` when one upgrades a read lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

_WRITE_OPTION = "novita_write"


def async_url(url: str) -> URL:
    """The SQLAlchemy async URL for a user-facing database URL.

    ``sqlite:///path`` becomes ``sqlite+aiosqlite:///path`` and ``postgres(ql)://...`` becomes
    ``postgresql+asyncpg://...``; an explicit driver is kept.
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; makes the SQLite file's directory if needed. Does not connect."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        return _create_sqlite_engine(target, echo=echo)
    return create_async_engine(target, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _create_sqlite_engine(target: URL, *, echo: bool) -> AsyncEngine:
    database = target.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(target, echo=echo, connect_args={"timeout": 30})
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True)
class Database:
    """The engine plus the two session factories the app hands out.

    ``read`` sessions are for queries; ``write`` sessions take the write lock up front on
    SQLite. On PostgreSQL both behave the same.
    """

    engine: AsyncEngine
    read: async_sessionmaker[AsyncSession]
    write: async_sessionmaker[AsyncSession]

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Database:
        return cls.from_engine(create_engine(url, echo=echo))

    @classmethod
    def from_engine(cls, engine: AsyncEngine) -> Database:
        write_engine = engine.execution_options(**{_WRITE_OPTION: True})
        return cls(
            engine=engine,
            read=async_sessionmaker(engine, expire_on_commit=False),
            write=async_sessionmaker(write_engine, expire_on_commit=False),
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()
