"""Housekeeping: forget what has outlived its retention.

Tombstones of deleted instances after ``DELETED_RETENTION_DAYS`` (their events and deliveries
go with them), expired idempotency keys, and delivered webhook attempts older than a week.
"""

from __future__ import annotations

from datetime import timedelta

from novita_gpu.instances.idempotency import IdempotencyRepository
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.webhooks.repository import DeliveryRepository

DELIVERED_RETENTION = timedelta(days=7)


async def housekeeping(job: JobContext) -> None:
    ctx = job.ctx
    now = ctx.clock.now()
    tombstone_cutoff = now - timedelta(days=ctx.settings.deleted_retention_days)
    async with ctx.db.write() as session, session.begin():
        await InstanceRepository(session).purge_tombstones(tombstone_cutoff)
        await IdempotencyRepository(session).purge_expired(now)
        await DeliveryRepository(session).purge_delivered(now - DELIVERED_RETENTION)
