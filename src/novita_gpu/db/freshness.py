"""Has anything been committed since I last looked? A cheap answer for SQLite files.

In WAL mode every commit rewrites the WAL-index header at the start of the ``-shm`` file,
which every connection to the database (in any process) maps into memory; its layout is part
of SQLite's documented file format (https://www.sqlite.org/walformat.html, "The WAL-Index
Header"). Reading those 48 bytes from our own read-only mapping costs no system call, which
is what lets a read cache check its freshness on every request. A writer updates the header
before its commit returns, so a read that follows a write always sees the change; a header
caught mid-update only looks changed (a needless refresh, never a stale read).

Without a mappable ``-shm`` (not WAL, or a platform without it) ``PRAGMA data_version``
answers the same question with one statement.
"""

from __future__ import annotations

import mmap
import sqlite3
from pathlib import Path

_HEADER = 48


class DataVersion:
    """Tells whether the SQLite file at ``path`` changed since the previous call."""

    def __init__(self, path: str) -> None:
        self._path = path
        # Held open: the -shm file stays while any connection is open.
        self._connection: sqlite3.Connection | None = None
        self._header: mmap.mmap | None = None
        self._seen: object = None

    def changed(self) -> bool:
        """True on the first call and whenever any commit landed since the previous one."""
        if self._connection is None:
            self._open()
        current = self._current()
        changed = current != self._seen
        self._seen = current
        return changed

    def _current(self) -> object:
        if self._header is not None:
            return self._header[:_HEADER]
        assert self._connection is not None
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return version

    def _open(self) -> None:
        self._connection = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False
        )
        self._connection.execute("PRAGMA data_version").fetchone()
        shm = Path(self._path + "-shm")
        try:
            with shm.open("rb") as file:
                self._header = mmap.mmap(file.fileno(), _HEADER, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            self._header = None

    def close(self) -> None:
        if self._header is not None:
            self._header.close()
            self._header = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
