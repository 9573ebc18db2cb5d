"""SQL of spot recovery: which rows a job claims, and the figures status and /health show."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import Instance, InstanceEvent
from novita_gpu.events.types import EventType
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.spot.phases import Phase


class SpotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, phases: Iterable[Phase], *, owner: str, now: datetime, hold: timedelta, limit: int
    ) -> list[str]:
        """Lease instances whose recovery is in one of ``phases`` (disjoint per replica).

        Deleted ones included: a reclaimed instance may still have to be deleted upstream.
        """
        condition = Instance.recovery_phase.in_([p.value for p in phases])
        return await InstanceRepository(self.session).claim(
            condition, owner=owner, now=now, hold=hold, limit=limit
        )

    async def any_in(self, phases: Iterable[Phase]) -> bool:
        """Whether any instance is in one of ``phases`` (a read, so idle ticks write nothing)."""
        query = (
            select(Instance.id)
            .where(Instance.recovery_phase.in_([p.value for p in phases]))
            .limit(1)
        )
        return (await self.session.execute(query)).first() is not None

    async def by_phase(self) -> dict[str, int]:
        """Live instances per recovery phase."""
        query = (
            select(Instance.recovery_phase, func.count())
            .where(Instance.deleted_at.is_(None), Instance.recovery_phase.is_not(None))
            .group_by(Instance.recovery_phase)
        )
        return {str(phase): count for phase, count in await self.session.execute(query)}

    async def totals(self) -> dict[str, int]:
        """Reclaims, migrations, recreates and failed recoveries, from the event history."""
        types = [EventType.SPOT_RECLAIM_NOTICE, EventType.MIGRATED, EventType.FAILED]
        query = select(InstanceEvent.type, InstanceEvent.data).where(
            InstanceEvent.type.in_([t.value for t in types])
        )
        counts: Counter[str] = Counter()
        for event_type, data in await self.session.execute(query):
            data = data or {}
            if event_type == EventType.SPOT_RECLAIM_NOTICE:
                counts["reclaims"] += 1
            elif event_type == EventType.MIGRATED:
                counts["migrations" if data.get("mode") == "migrate" else "recreates"] += 1
            elif data.get("reason") == "spot_recovery":
                counts["failures"] += 1
        return {key: counts[key] for key in ("reclaims", "migrations", "recreates", "failures")}
