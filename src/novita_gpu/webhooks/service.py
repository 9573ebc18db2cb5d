"""Reading and re-queueing deliveries for the delivery routes (sending is the dispatcher's)."""

from __future__ import annotations

from dataclasses import dataclass

from novita_gpu.context import AppContext
from novita_gpu.core.errors import DeliveryNotFound, DeliveryNotRetryable
from novita_gpu.webhooks.repository import DeliveryRepository
from novita_gpu.webhooks.schemas import (
    DeliveryDetailOut,
    DeliveryListOut,
    delivery_detail_out,
    delivery_out,
)
from novita_gpu.webhooks.states import DeliveryStatus


@dataclass
class DeliveryService:
    ctx: AppContext

    async def recent(
        self, *, instance_id: str | None, status: DeliveryStatus | None, limit: int
    ) -> DeliveryListOut:
        """Deliveries, newest first, optionally of one instance and in one status."""
        async with self.ctx.db.read() as session:
            rows = await DeliveryRepository(session).recent(
                instance_id=instance_id, status=status.value if status else None, limit=limit
            )
        return DeliveryListOut(deliveries=[delivery_out(d, event_type) for d, event_type in rows])

    async def get(self, delivery_id: str) -> DeliveryDetailOut:
        """One delivery with every attempt. Raises :class:`DeliveryNotFound`."""
        async with self.ctx.db.read() as session:
            repository = DeliveryRepository(session)
            found = await repository.get(delivery_id)
            if found is None:
                raise DeliveryNotFound(details={"deliveryId": delivery_id})
            attempts = list(await repository.attempts(delivery_id))
        return delivery_detail_out(*found, attempts)

    async def retry(self, delivery_id: str) -> DeliveryDetailOut:
        """Queue a failed delivery again, due now, with a fresh attempt budget and window.

        Raises :class:`DeliveryNotFound`, or :class:`DeliveryNotRetryable` unless it is
        ``failed``. Wakes this process's dispatcher.
        """
        async with self.ctx.db.write() as session, session.begin():
            repository = DeliveryRepository(session)
            found = await repository.get(delivery_id)
            if found is None:
                raise DeliveryNotFound(details={"deliveryId": delivery_id})
            if not await repository.requeue_failed(delivery_id, self.ctx.clock.now()):
                raise DeliveryNotRetryable(
                    details={"deliveryId": delivery_id, "status": found[0].status}
                )
            self.ctx.bus.attach(session.sync_session)
        return await self.get(delivery_id)
