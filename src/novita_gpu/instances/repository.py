"""All SQL about instances."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import Instance


class InstanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count_by_status(self) -> dict[str, int]:
        """Instance counts per status, tombstones excluded."""
        query = (
            select(Instance.status, func.count())
            .where(Instance.deleted_at.is_(None))
            .group_by(Instance.status)
        )
        rows = await self.session.execute(query)
        return {status: count for status, count in rows.tuples()}
