"""All SQL about instances."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.engine import Query
from novita_gpu.db.locking import skip_locked
from novita_gpu.db.models import Instance
from novita_gpu.db.types import UTCDateTime
from novita_gpu.instances.states import Status
from novita_gpu.instances.views import VIEW_COLUMNS

_T = TypeVar("_T", bound=Any)


class SyncRow(NamedTuple):
    """The columns of a managed instance that a status sync compares with upstream's view
    (a tuple: a pass builds one per managed instance)."""

    id: str
    name: str
    novita_instance_id: str
    status: str
    upstream_status: str | None
    spot_status: str | None
    spot_reclaim_time: datetime | None
    created_at: datetime


_SYNC_COLUMNS = (
    Instance.id,
    Instance.name,
    Instance.novita_instance_id,
    Instance.status,
    Instance.upstream_status,
    Instance.spot_status,
    Instance.spot_reclaim_time,
    Instance.created_at,
)


@dataclass(frozen=True)
class ListFilter:
    """``GET /api/instances`` filters. ``name`` ending in ``*`` is a prefix match."""

    statuses: tuple[str, ...] = ()
    name: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Position after the last item of a page (newest first: created_at desc, id desc)."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | None:
        """The cursor in ``token``, or None if it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, instance_id = raw.split("|", 1)
            parsed = UTCDateTime().process_result_value(stamp, None)  # type: ignore[arg-type]
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return cls(parsed, instance_id) if parsed else None


def filtered(query: Select[_T], filters: ListFilter) -> Select[_T]:
    """``query`` narrowed by the list filters.

    Without a status filter, tombstones (deleted instances, failed creates) are left out; a
    status filter shows every instance in those statuses.
    """
    if filters.statuses:
        query = query.where(Instance.status.in_(filters.statuses))
    else:
        query = query.where(Instance.deleted_at.is_(None))
    if filters.name and filters.name.endswith("*"):
        query = query.where(Instance.name.like(_like_prefix(filters.name), escape="\\"))
    elif filters.name:
        query = query.where(Instance.name == filters.name)
    if filters.region:
        query = query.where(Instance.region == filters.region)
    return query


def _like_prefix(pattern: str) -> str:
    prefix = pattern[:-1]
    for special in ("\\", "%", "_"):
        prefix = prefix.replace(special, "\\" + special)
    return f"{prefix}%"


def newest_first(query: Select[_T], cursor: Cursor | None) -> Select[_T]:
    """Newest first (created_at desc, id desc), starting after ``cursor``."""
    if cursor is not None:
        query = query.where(
            or_(
                Instance.created_at < cursor.created_at,
                and_(Instance.created_at == cursor.created_at, Instance.id < cursor.id),
            )
        )
    return query.order_by(Instance.created_at.desc(), Instance.id.desc())


# The hot read statements are built once per shape with bind parameters: SQLAlchemy reuses
# a compiled statement cheaply only when it is the same statement object (bench/instances_read).


@dataclass(frozen=True)
class _Shape:
    statuses: bool
    name: Literal["", "exact", "prefix"]
    region: bool
    cursor: bool


def _shape(filters: ListFilter, cursor: Cursor | None) -> _Shape:
    name: Literal["", "exact", "prefix"] = ""
    if filters.name:
        name = "prefix" if filters.name.endswith("*") else "exact"
    return _Shape(
        statuses=bool(filters.statuses),
        name=name,
        region=bool(filters.region),
        cursor=cursor is not None,
    )


def _where_for(query: Select[_T], shape: _Shape) -> Select[_T]:
    if shape.statuses:
        query = query.where(Instance.status.in_(bindparam("statuses", expanding=True)))
    else:
        query = query.where(Instance.deleted_at.is_(None))
    if shape.name == "prefix":
        query = query.where(Instance.name.like(bindparam("name"), escape="\\"))
    elif shape.name == "exact":
        query = query.where(Instance.name == bindparam("name"))
    if shape.region:
        query = query.where(Instance.region == bindparam("region"))
    return query


@lru_cache(maxsize=64)
def _page_query(shape: _Shape) -> Select[Any]:
    query = _where_for(select(*VIEW_COLUMNS), shape)
    if shape.cursor:
        after = bindparam("cursor_at", type_=UTCDateTime())
        query = query.where(
            or_(
                Instance.created_at < after,
                and_(Instance.created_at == after, Instance.id < bindparam("cursor_id")),
            )
        )
    return query.order_by(Instance.created_at.desc(), Instance.id.desc()).limit(bindparam("limit"))


@lru_cache(maxsize=64)
def _count_query(shape: _Shape) -> Select[Any]:
    return _where_for(select(func.count()).select_from(Instance), shape)


def _params(filters: ListFilter, cursor: Cursor | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if filters.statuses:
        params["statuses"] = list(filters.statuses)
    if filters.name:
        params["name"] = _like_prefix(filters.name) if filters.name.endswith("*") else filters.name
    if filters.region:
        params["region"] = filters.region
    if cursor is not None:
        params["cursor_at"] = cursor.created_at
        params["cursor_id"] = cursor.id
    return params


def view_page_query(filters: ListFilter, cursor: Cursor | None, limit: int) -> Query:
    """Rows of :data:`VIEW_COLUMNS` for one page of the list endpoint, newest first."""
    params = {**_params(filters, cursor), "limit": limit}
    return Query(_page_query(_shape(filters, cursor)), params)


def count_query(filters: ListFilter) -> Query:
    return Query(_count_query(_shape(filters, None)), _params(filters, None))


_BY_ID = select(*VIEW_COLUMNS).where(Instance.id == bindparam("ref")).limit(1)
_BY_NOVITA_ID = (
    select(*VIEW_COLUMNS).where(Instance.novita_instance_id == bindparam("ref")).limit(1)
)


def view_by_reference_query(reference: str) -> Query:
    """The view row of an instance by local id, or by the Novita id of a managed one."""
    statement = _BY_ID if reference.startswith("inst_") else _BY_NOVITA_ID
    return Query(statement, {"ref": reference})


class InstanceRepository:
    """Instance SQL for one session. With ``lock``, rows loaded by id are locked until the
    transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite write transactions are exclusive
    already), so concurrent writers to one instance queue instead of conflicting."""

    def __init__(self, session: AsyncSession, *, lock: bool = False) -> None:
        self.session = session
        self.lock = lock

    def add(self, instance: Instance) -> None:
        self.session.add(instance)

    async def get(self, instance_id: str) -> Instance | None:
        return await self.session.get(
            Instance, instance_id, with_for_update=self.lock, populate_existing=self.lock
        )

    async def get_by_reference(self, reference: str) -> Instance | None:
        """By local id, or by the Novita id of a managed instance."""
        if reference.startswith("inst_"):
            return await self.get(reference)
        query = select(Instance).where(Instance.novita_instance_id == reference)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_live_by_name(self, name: str) -> Instance | None:
        """The instance with ``name`` that is not deleted (names are unique among those)."""
        query = select(Instance).where(Instance.name == name, Instance.deleted_at.is_(None))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self, filters: ListFilter, cursor: Cursor | None, limit: int
    ) -> Sequence[Instance]:
        """One page of ORM rows, newest first; ``limit`` items at most."""
        query = newest_first(filtered(select(Instance), filters), cursor).limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def live_in_statuses(self, statuses: frozenset[Status]) -> Sequence[Instance]:
        """Every non-deleted instance whose status is one of ``statuses``."""
        query = select(Instance).where(
            Instance.deleted_at.is_(None), Instance.status.in_([s.value for s in statuses])
        )
        return (await self.session.execute(query.order_by(Instance.created_at))).scalars().all()

    async def count_by_status(self) -> dict[str, int]:
        """Instance counts per status, tombstones excluded."""
        query = (
            select(Instance.status, func.count())
            .where(Instance.deleted_at.is_(None))
            .group_by(Instance.status)
        )
        rows = await self.session.execute(query)
        return {status: count for status, count in rows}

    async def committed_spend_units(self, statuses: frozenset[Status]) -> int:
        """Sum of hourly prices (Novita units) of live instances in ``statuses``."""
        query = select(func.coalesce(func.sum(Instance.price_units), 0)).where(
            Instance.deleted_at.is_(None), Instance.status.in_([s.value for s in statuses])
        )
        total = (await self.session.execute(query)).scalar_one()
        return int(total or 0)

    async def claim(
        self,
        condition: ColumnElement[bool],
        *,
        owner: str,
        now: datetime,
        hold: timedelta,
        limit: int,
        order_by: Any = Instance.created_at,
    ) -> list[str]:
        """Lease up to ``limit`` instances matching ``condition`` whose lease is free.

        Candidates are locked with :func:`~novita_gpu.db.locking.skip_locked`, so replicas
        claim disjoint sets. The lease columns
        are set with a plain UPDATE (no version bump), so claiming never makes a concurrent
        API change fail. The caller commits.
        """
        query = select(Instance.id).where(condition, _lease_free(now)).order_by(order_by)
        query = query.limit(limit)
        ids = list((await self.session.execute(skip_locked(query, self.session))).scalars())
        if ids:
            await self.session.execute(
                update(Instance)
                .where(Instance.id.in_(ids))
                .values(lease_owner=owner, lease_expires_at=now + hold)
                .execution_options(synchronize_session=False)
            )
        return ids

    async def earliest_probe_after(
        self, statuses: tuple[str, ...], now: datetime
    ) -> datetime | None:
        """The soonest ``next_probe_at`` after ``now`` among instances in ``statuses`` that
        nobody holds (one being probed schedules its next round itself)."""
        query = select(func.min(Instance.next_probe_at)).where(
            Instance.status.in_(statuses), Instance.next_probe_at > now, _lease_free(now)
        )
        found: datetime | None = (await self.session.execute(query)).scalar_one()
        return found

    async def release(self, ids: list[str], owner: str) -> None:
        """Give back leases this owner holds (rows another owner took over are left alone)."""
        if not ids:
            return
        await self.session.execute(
            update(Instance)
            .where(Instance.id.in_(ids), Instance.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )

    async def get_many(self, ids: list[str]) -> Sequence[Instance]:
        if not ids:
            return []
        query = select(Instance).where(Instance.id.in_(ids))
        return (await self.session.execute(query)).scalars().all()

    async def sync_rows(self) -> list[SyncRow]:
        """Live managed instances known upstream: what a status sync pass covers, as the few
        columns it compares with upstream (no ORM objects: a pass reads every managed row)."""
        query = select(*_SYNC_COLUMNS).where(
            Instance.deleted_at.is_(None), Instance.novita_instance_id.is_not(None)
        )
        return [
            SyncRow(id_, name, novita_id or "", status, upstream, spot, reclaim, created)
            for id_, name, novita_id, status, upstream, spot, reclaim, created in (
                await self.session.execute(query)
            )
        ]

    async def count_in(self, statuses: frozenset[Status]) -> int:
        query = select(func.count()).where(
            Instance.deleted_at.is_(None), Instance.status.in_([s.value for s in statuses])
        )
        return (await self.session.execute(query)).scalar_one()

    async def count_known_upstream(self) -> int:
        """Live instances with a Novita id: what one listing pass covers."""
        query = select(func.count()).where(
            Instance.deleted_at.is_(None), Instance.novita_instance_id.is_not(None)
        )
        return (await self.session.execute(query)).scalar_one()

    async def changed_recently(
        self, statuses: frozenset[Status], since: datetime, limit: int
    ) -> Sequence[tuple[str, str, str]]:
        """(id, Novita id, status) of live instances known upstream, in one of ``statuses``
        since a change at or after ``since``: the longest-waiting first, at most ``limit``."""
        query = (
            select(Instance.id, Instance.novita_instance_id, Instance.status)
            .where(
                Instance.deleted_at.is_(None),
                Instance.novita_instance_id.is_not(None),
                Instance.status.in_([s.value for s in statuses]),
                Instance.status_changed_at >= since,
            )
            .order_by(Instance.status_changed_at, Instance.id)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        return [(row.id, row.novita_instance_id, row.status) for row in rows]

    async def ids_in_status_since_before(
        self, statuses: tuple[str, ...], changed_before: datetime
    ) -> list[str]:
        """Live instances that have been in one of ``statuses`` since before a time."""
        query = select(Instance.id).where(
            Instance.deleted_at.is_(None),
            Instance.status.in_(statuses),
            Instance.status_changed_at < changed_before,
        )
        return list((await self.session.execute(query)).scalars())

    async def purge_tombstones(self, deleted_before: datetime) -> int:
        """Remove deleted instances (and, by cascade, their history) past retention."""
        result = await self.session.execute(
            delete(Instance).where(
                Instance.deleted_at.is_not(None), Instance.deleted_at < deleted_before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _lease_free(now: datetime) -> ColumnElement[bool]:
    """Rows whose lease nobody holds at ``now``."""
    return or_(Instance.lease_expires_at.is_(None), Instance.lease_expires_at < now)
