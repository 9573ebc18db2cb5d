"""All SQL about named leases: periodic-job claims and loop heartbeats."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import Lease

JOB_PREFIX = "job:"


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def jobs(self) -> Sequence[Lease]:
        """Every periodic job's lease row (name, last run, interval, heartbeat)."""
        query = select(Lease).where(Lease.name.startswith(JOB_PREFIX)).order_by(Lease.name)
        return (await self.session.execute(query)).scalars().all()
