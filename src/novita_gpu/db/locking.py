"""Row claiming across replicas: the one place that knows the dialects differ.

On PostgreSQL, candidate rows are selected ``FOR UPDATE SKIP LOCKED``: concurrent claimers
lock disjoint rows and never wait on each other. SQLite has no row locks, but our write
sessions begin with ``BEGIN IMMEDIATE`` (see :mod:`novita_gpu.db.engine`), so a
select-then-update inside one write transaction is already exclusive; the query is left as is.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

_Query = TypeVar("_Query", bound=Select[Any])


def skip_locked(query: _Query, session: AsyncSession, *, of: Any = None) -> _Query:
    """``query`` locking the rows it returns (of ``of``, default all) and skipping locked ones.

    Must run in a write transaction that also updates the claimed rows before committing.
    """
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query
