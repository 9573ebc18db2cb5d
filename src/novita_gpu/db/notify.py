"""Commit wake-ups across replicas: PostgreSQL ``LISTEN/NOTIFY``, the one place that knows it.

A transaction that recorded events also sends ``NOTIFY novita_events``; PostgreSQL delivers it
to every listening connection when (and only if) the transaction commits. Each replica keeps
one listening connection and turns each notification into a local wake-up, so event streams,
long-polls and the webhook dispatcher on every replica react to a write at once instead of at
their next poll. Polling stays as the safety net (a notification can be lost while the
listening connection reconnects). SQLite has no such thing: there the in-process signal and
the poll do the job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

CHANNEL = "novita_events"
_RECONNECT_SECONDS = 1.0
_log = structlog.get_logger("db.notify")


def notify_at_commit(session: Session) -> None:
    """Queue the cross-replica notification in ``session``'s transaction (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def _dsn(database_url: str) -> str:
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class CommitListener:
    """Calls ``on_commit`` for every notification on :data:`CHANNEL`, reconnecting as needed."""

    def __init__(self, database_url: str, on_commit: Callable[[], None]) -> None:
        self._dsn = _dsn(database_url)
        self._on_commit = on_commit
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="commit-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        import asyncpg  # PostgreSQL only: a SQLite server never loads the driver

        while True:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError) as exc:
                self.connected.clear()
                _log.warning("commit listener disconnected", error=str(exc))
                self._on_commit()  # whatever happened meanwhile: look once
                await asyncio.sleep(_RECONNECT_SECONDS)

    async def _listen(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self._dsn)
        try:
            closed = asyncio.Event()
            connection.add_termination_listener(lambda *_: closed.set())
            await connection.add_listener(CHANNEL, self._notified)
            self.connected.set()
            await closed.wait()
            raise OSError("connection closed")
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    def _notified(self, *_: Any) -> None:
        self._on_commit()
