"""Engine and session factories for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout. Its transactions are started explicitly:
``BEGIN`` for read sessions and ``BEGIN IMMEDIATE`` for write sessions, so two writers queue
on the write lock instead of failing with ``SQLITE_BUSY`` when one upgrades a read lock.
Within one process, write sessions also take turns on an asyncio lock first
(:class:`TakingTurns`): SQLite's own wait for its lock polls with sleeps of up to 100 ms, so
under a burst of writers the lock would sit idle between them; the asyncio lock hands it on
at once.

:meth:`Database.fetch` runs one Core SELECT for the hot read endpoints. On PostgreSQL it uses
the async engine. On SQLite it runs the statement on a small thread pool with the synchronous
driver: one thread hop instead of the dozen aiosqlite makes per statement (see
``bench/instances_read.py``); WAL readers never wait for writers, so this never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Executable, Row, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from novita_gpu.db.freshness import DataVersion

_WRITE_OPTION = "novita_write"
_READ_THREADS = 4
# As long as SQLite's busy timeout: a writer that waited this long goes on without its turn
# (and SQLite decides, as it would without the lock).
_TURN_TIMEOUT_SECONDS = 30.0

WriteSessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class TakingTurns:
    """Write sessions that wait for their turn in this process (FIFO) before SQLite's lock."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        turn = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_TURN_TIMEOUT_SECONDS):
                turn = await lock.acquire()
        try:
            async with self._sessions() as session:
                yield session
        finally:
            if turn:
                lock.release()


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


def for_writes(engine: AsyncEngine) -> AsyncEngine:
    """The engine whose transactions take SQLite's write lock when they begin
    (``BEGIN IMMEDIATE``); the same engine elsewhere."""
    return engine.execution_options(**{_WRITE_OPTION: True})


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


def _write_sessions(engine: AsyncEngine) -> WriteSessions:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return TakingTurns(sessions) if is_sqlite(engine) else sessions


@dataclass(frozen=True)
class Query:
    """A prebuilt statement and its bind parameters, for :meth:`Database.fetch`."""

    statement: Executable
    params: dict[str, Any]


def _sqlite_reader(engine: AsyncEngine) -> Engine | None:
    """A synchronous read-only engine on the same SQLite file, or None for other databases."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    reader = create_sync_engine(
        url.set(drivername="sqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=_READ_THREADS,
    )

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return reader


@dataclass(frozen=True)
class Database:
    """The engine plus the two session factories the app hands out.

    ``read`` sessions are for queries; ``write`` sessions take the write lock up front on
    SQLite. On PostgreSQL both behave the same. ``fetch`` is the fast path for single reads.
    """

    engine: AsyncEngine
    read: async_sessionmaker[AsyncSession]
    write: WriteSessions
    reader: Engine | None = None
    read_pool: ThreadPoolExecutor | None = None
    changes: DataVersion | None = None
    """Commit detection for read caches (SQLite files only; None elsewhere)."""

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Database:
        return cls.from_engine(create_engine(url, echo=echo))

    @classmethod
    def from_engine(cls, engine: AsyncEngine) -> Database:
        write_engine = for_writes(engine)
        reader = _sqlite_reader(engine)
        pool = ThreadPoolExecutor(_READ_THREADS, "db-read") if reader is not None else None
        changes = DataVersion(reader.url.database) if reader and reader.url.database else None
        return cls(
            engine=engine,
            read=async_sessionmaker(engine, expire_on_commit=False),
            write=_write_sessions(write_engine),
            reader=reader,
            read_pool=pool,
            changes=changes,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def fetch(self, query: Query) -> Sequence[Row[Any]]:
        """All rows of one Core SELECT (no ORM objects, no transaction kept)."""
        if self.reader is None or self.read_pool is None:
            async with self.engine.connect() as connection:
                return (await connection.execute(query.statement, query.params)).all()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.read_pool, self._fetch_sync, query)

    def _fetch_sync(self, query: Query) -> Sequence[Row[Any]]:
        assert self.reader is not None
        with self.reader.connect() as connection:
            return connection.execute(query.statement, query.params).all()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.reader is not None:
            self.reader.dispose()
        if self.read_pool is not None:
            self.read_pool.shutdown(wait=False)
        if self.changes is not None:
            self.changes.close()
