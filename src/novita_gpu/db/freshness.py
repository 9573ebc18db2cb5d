"""Has anything been committed since I last looked? A cheap answer for SQLite files.

``PRAGMA data_version`` on a connection changes whenever *another* connection (in this
process or another one sharing the file) commits. The probe keeps one connection of its own
that never writes, so every commit shows. It costs a few microseconds and no I/O in WAL mode,
which is what lets a read cache check its freshness on every request.
"""

from __future__ import annotations

import sqlite3


class DataVersion:
    """Tells whether the SQLite file at ``path`` changed since the previous call."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._seen: int | None = None

    def changed(self) -> bool:
        """True on the first call and whenever any commit landed since the previous one."""
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False
            )
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._seen
        self._seen = version
        return changed

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
