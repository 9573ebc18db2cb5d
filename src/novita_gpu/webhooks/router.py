"""Delivery visibility routes: what was sent where, every attempt, and manual re-queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from novita_gpu.core.errors import DeliveryNotFound, DeliveryNotRetryable
from novita_gpu.core.openapi import error_responses
from novita_gpu.deps import ContextDep
from novita_gpu.webhooks.schemas import DeliveryDetailOut, DeliveryListOut
from novita_gpu.webhooks.service import DeliveryService
from novita_gpu.webhooks.states import DeliveryStatus

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

MAX_PAGE = 500


@router.get("/deliveries", response_model=DeliveryListOut)
async def list_deliveries(
    ctx: ContextDep,
    instance_id: Annotated[str | None, Query(alias="instanceId", max_length=64)] = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> DeliveryListOut:
    """Webhook deliveries, newest first (URLs without their query strings)."""
    return await DeliveryService(ctx).recent(instance_id=instance_id, status=status, limit=limit)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetailOut,
    responses=error_responses(DeliveryNotFound),
)
async def get_delivery(ctx: ContextDep, delivery_id: str) -> DeliveryDetailOut:
    """One delivery with every attempt (status code, response excerpt, error, duration)."""
    return await DeliveryService(ctx).get(delivery_id)


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=DeliveryDetailOut,
    responses=error_responses(DeliveryNotFound, DeliveryNotRetryable),
)
async def retry_delivery(ctx: ContextDep, delivery_id: str) -> DeliveryDetailOut:
    """Queue a failed delivery again now, with a fresh attempt budget (409 unless failed)."""
    return await DeliveryService(ctx).retry(delivery_id)
