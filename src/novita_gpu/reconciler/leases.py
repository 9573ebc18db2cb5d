"""All SQL about named leases: periodic jobs run once per interval across replicas.

A job's row says who holds it (``owner`` until ``expires_at``) and when it last ran. A replica
may run the job when nobody holds a live lease and the interval has passed since the last run;
claiming is one conditional UPDATE, so two replicas cannot both win. A crashed holder's lease
simply expires.

Every replica claims and releases a job lease a few times a second, so those statements are
built once, with bind parameters, and run without the ORM's in-session synchronisation (no
lease object is read back in the session that changed it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Update, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import Lease

JOB_PREFIX = "job:"
MARK_PREFIX = "mark:"
# Runs are allowed slightly early so replicas on slightly different tick phases still share.
_EARLY_FRACTION = 0.9


def _without_session_sync(statement: Update) -> Update:
    return statement.execution_options(synchronize_session=False)


_CLAIM = _without_session_sync(
    update(Lease)
    .where(
        Lease.name == bindparam("lease_name"),
        or_(
            Lease.expires_at.is_(None),
            Lease.expires_at < bindparam("now"),
            Lease.owner == bindparam("claimant"),
        ),
        or_(Lease.last_run_at.is_(None), Lease.last_run_at <= bindparam("due_before")),
    )
    .values(
        owner=bindparam("claimant"),
        expires_at=bindparam("until"),
        interval_seconds=bindparam("interval"),
    )
)
_RENEW = _without_session_sync(
    update(Lease)
    .where(Lease.name == bindparam("lease_name"), Lease.owner == bindparam("holder"))
    .values(expires_at=bindparam("until"))
)
_FINISH = _without_session_sync(
    update(Lease)
    .where(Lease.name == bindparam("lease_name"), Lease.owner == bindparam("holder"))
    .values(
        owner=None,
        expires_at=None,
        last_run_at=bindparam("now"),
        heartbeat_at=bindparam("now"),
        last_duration_ms=bindparam("duration_ms"),
        last_error=bindparam("error"),
        run_count=Lease.run_count + 1,
    )
)


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def jobs(self) -> Sequence[Lease]:
        """Every periodic job's lease row (name, last run, interval, heartbeat)."""
        query = select(Lease).where(Lease.name.startswith(JOB_PREFIX)).order_by(Lease.name)
        return (await self.session.execute(query)).scalars().all()

    async def ensure(self, name: str, interval: float) -> bool:
        """Create the job's row if it does not exist yet (safe under races); True if this call
        created it."""
        if await self.session.get(Lease, name) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(Lease(name=name, interval_seconds=interval, run_count=0))
        except IntegrityError:
            return False
        return True

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
        parameters = {
            "lease_name": name,
            "claimant": owner,
            "now": now,
            "due_before": now - timedelta(seconds=gap),
            "until": now + hold,
            "interval": interval,
        }
        result = await self.session.execute(_CLAIM, parameters)
        return bool(getattr(result, "rowcount", 0))

    async def renew(self, name: str, owner: str, now: datetime, hold: timedelta) -> None:
        """Extend a lease this owner still holds."""
        parameters = {"lease_name": name, "holder": owner, "until": now + hold}
        await self.session.execute(_RENEW, parameters)

    async def finish(
        self, name: str, owner: str, now: datetime, duration_ms: int, error: str | None
    ) -> None:
        """Record a run and release the lease."""
        parameters = {
            "lease_name": name,
            "holder": owner,
            "now": now,
            "duration_ms": duration_ms,
            "error": error,
        }
        await self.session.execute(_FINISH, parameters)

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
