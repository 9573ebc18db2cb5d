"""All SQL about webhook deliveries and their attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import WebhookDelivery

PENDING_STATES = ("pending", "delivering")


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_pending_seconds: float
    failed: int


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def backlog(self, now: datetime) -> Backlog:
        """Undelivered count, age of the oldest undelivered, and count of final failures."""
        pending_q = select(func.count(), func.min(WebhookDelivery.created_at)).where(
            WebhookDelivery.status.in_(PENDING_STATES)
        )
        pending, oldest = (await self.session.execute(pending_q)).one()
        failed_q = select(func.count()).where(WebhookDelivery.status == "failed")
        failed = (await self.session.execute(failed_q)).scalar_one()
        age = (now - oldest).total_seconds() if oldest else 0.0
        return Backlog(pending=pending, oldest_pending_seconds=max(0.0, age), failed=failed)

    async def purge_delivered(self, delivered_before: datetime) -> int:
        """Drop delivered deliveries (and their attempts) older than ``delivered_before``."""
        result = await self.session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.status == "succeeded",
                WebhookDelivery.delivered_at < delivered_before,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
