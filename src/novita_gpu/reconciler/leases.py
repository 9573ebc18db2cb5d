"""All SQL about named leases: periodic jobs run once per interval across replicas.

A job's row says who holds it (``owner`` until ``expires_at``) and when it last ran. A replica
may run the job when nobody holds a live lease and the interval has passed since the last run;
claiming is one conditional UPDATE, so two replicas cannot both win. A crashed holder's lease
simply expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import Lease

JOB_PREFIX = "job:"
MARK_PREFIX = "mark:"
# Runs are allowed slightly early so replicas on slightly different tick phases still share.
_EARLY_FRACTION = 0.9


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def jobs(self) -> Sequence[Lease]:
        """Every periodic job's lease row (name, last run, interval, heartbeat)."""
        query = select(Lease).where(Lease.name.startswith(JOB_PREFIX)).order_by(Lease.name)
        return (await self.session.execute(query)).scalars().all()

    async def ensure(self, name: str, interval: float) -> None:
        """Create the job's row if it does not exist yet (safe under races)."""
        if await self.session.get(Lease, name) is not None:
            return
        try:
            async with self.session.begin_nested():
                self.session.add(Lease(name=name, interval_seconds=interval, run_count=0))
        except IntegrityError:
            pass

    async def claim(
        self,
        name: str,
        owner: str,
        now: datetime,
        interval: float,
        hold: timedelta,
        *,
        force: bool = False,
    ) -> bool:
        """Take the job's lease if it is free and due (``force``: free is enough).

        True if this owner may run the job now.
        """
        gap = 0.0 if force else interval * _EARLY_FRACTION
        due_before = now - timedelta(seconds=gap)
        result = await self.session.execute(
            update(Lease)
            .where(
                Lease.name == name,
                or_(Lease.expires_at.is_(None), Lease.expires_at < now, Lease.owner == owner),
                or_(Lease.last_run_at.is_(None), Lease.last_run_at <= due_before),
            )
            .values(owner=owner, expires_at=now + hold, interval_seconds=interval)
        )
        return bool(getattr(result, "rowcount", 0))

    async def renew(self, name: str, owner: str, now: datetime, hold: timedelta) -> None:
        """Extend a lease this owner still holds."""
        await self.session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.owner == owner)
            .values(expires_at=now + hold)
        )

    async def finish(
        self, name: str, owner: str, now: datetime, duration_ms: int, error: str | None
    ) -> None:
        """Record a run and release the lease."""
        await self.session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.owner == owner)
            .values(
                owner=None,
                expires_at=None,
                last_run_at=now,
                heartbeat_at=now,
                last_duration_ms=duration_ms,
                last_error=error,
                run_count=Lease.run_count + 1,
            )
        )

    async def mark(self, name: str, now: datetime, duration_ms: int | None = None) -> None:
        """Remember that something happened at ``now`` and how long it took (e.g. the last
        full sync pass)."""
        await self.ensure(name, 0.0)
        await self.session.execute(
            update(Lease)
            .where(Lease.name == name)
            .values(last_run_at=now, last_duration_ms=duration_ms)
        )

    async def marks(self) -> Sequence[Lease]:
        query = select(Lease).where(Lease.name.startswith(MARK_PREFIX)).order_by(Lease.name)
        return (await self.session.execute(query)).scalars().all()

    async def last_mark(self, name: str) -> datetime | None:
        lease = await self.session.get(Lease, name)
        return lease.last_run_at if lease else None
