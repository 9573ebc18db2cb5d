"""All SQL about instance events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
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

    async def seq_of(self, event_id: str) -> int | None:
        query = select(InstanceEvent.seq).where(InstanceEvent.id == event_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def last_seq(self) -> int:
        query = select(InstanceEvent.seq).order_by(InstanceEvent.seq.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none() or 0
