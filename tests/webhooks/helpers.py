"""Reading the outbox in webhook tests."""

from __future__ import annotations

from sqlalchemy import select

from novita_gpu.context import AppContext
from novita_gpu.db.models import WebhookAttempt, WebhookDelivery
from novita_gpu.webhooks.repository import DeliveryRepository


async def deliveries(ctx: AppContext) -> list[WebhookDelivery]:
    """Every delivery, in event order."""
    async with ctx.db.read() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.event_seq, WebhookDelivery.id)
        return list((await session.execute(query)).scalars())


async def delivery(ctx: AppContext, delivery_id: str | None = None) -> WebhookDelivery:
    """One delivery (the only one when no id is given)."""
    found = await deliveries(ctx)
    if delivery_id is None:
        assert len(found) == 1, found
        return found[0]
    return next(d for d in found if d.id == delivery_id)


async def attempts(ctx: AppContext, delivery_id: str) -> list[WebhookAttempt]:
    async with ctx.db.read() as session:
        return list(await DeliveryRepository(session).attempts(delivery_id))


def metric(ctx: AppContext, name: str, **labels: str) -> float:
    value = ctx.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def delivered(ctx: AppContext, outcome: str) -> float:
    return metric(ctx, "novita_gpu_webhook_deliveries_total", outcome=outcome)
