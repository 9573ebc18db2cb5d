"""All SQL about instance events."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import InstanceEvent


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, event: InstanceEvent) -> None:
        self.session.add(event)

    async def for_instance(self, instance_id: str, *, limit: int = 500) -> Sequence[InstanceEvent]:
        """The instance's events, oldest first."""
        query = (
            select(InstanceEvent)
            .where(InstanceEvent.instance_id == instance_id)
            .order_by(InstanceEvent.seq)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def after(self, seq: int, *, limit: int = 500) -> Sequence[InstanceEvent]:
        """Events with a sequence number above ``seq``, in order (the global stream)."""
        query = (
            select(InstanceEvent)
            .where(InstanceEvent.seq > seq)
            .order_by(InstanceEvent.seq)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def after_or_in(
        self, seq: int, also: Collection[int], *, limit: int = 500
    ) -> Sequence[InstanceEvent]:
        """Events above ``seq`` plus those numbered in ``also``, in sequence order (tails)."""
        condition = InstanceEvent.seq > seq
        if also:
            condition = or_(condition, InstanceEvent.seq.in_(sorted(also)))
        query = select(InstanceEvent).where(condition).order_by(InstanceEvent.seq).limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def seqs_between(self, low: int, high: int) -> list[int]:
        """The sequence numbers present in ``(low, high]``, ascending."""
        query = (
            select(InstanceEvent.seq)
            .where(InstanceEvent.seq > low, InstanceEvent.seq <= high)
            .order_by(InstanceEvent.seq)
        )
        return list((await self.session.execute(query)).scalars())

    async def seq_of(self, event_id: str) -> int | None:
        query = select(InstanceEvent.seq).where(InstanceEvent.id == event_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def last_seq(self) -> int:
        query = select(InstanceEvent.seq).order_by(InstanceEvent.seq.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none() or 0
