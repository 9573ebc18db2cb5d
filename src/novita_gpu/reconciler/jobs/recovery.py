"""Interrupted creates: rows without a Novita id whose create request was cut short.

A create request holds a lease on its row while it talks to upstream. When the process dies
(or the answer is lost and the name lookup failed), the lease expires and this job takes over:

1. Look the instance up by name (and the marker env). Found: record its id; the status sync
   follows it from there. Never re-sent while an instance with our marker exists.
2. Not found, and the create was sent long enough ago that upstream would list it, or never
   sent at all: send it again (bounded attempts), with region fallback.
3. Still nothing after ``CREATE_GIVE_UP_MINUTES`` or :data:`MAX_CREATE_ATTEMPTS` sends:
   ``failed`` with the reason, name freed.

``CREATE_LISTING_DELAY_SECONDS`` is how long upstream may take to list an instance it created;
a create is never re-sent sooner.

Rows deleted by the user before their create was confirmed are looked up too, so an instance
that surfaces late is deleted instead of running unnoticed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, or_

from novita_gpu.catalog.service import OfferQuery
from novita_gpu.context import AppContext
from novita_gpu.core.errors import ServiceError
from novita_gpu.db.models import Instance
from novita_gpu.instances.placement import Placement, place
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import Change, UnitOfWork, update_instance
from novita_gpu.instances.upstream_lookup import locate_created
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.upstream import UpstreamError, UpstreamInstance, UpstreamRequestError

_log = structlog.get_logger("reconciler.recovery")

MAX_CREATE_ATTEMPTS = 3
ORPHAN_WATCH = timedelta(hours=1)
BATCH = 50


def _candidates(now: datetime) -> object:
    unconfirmed_create = and_(
        Instance.status == Status.CREATING.value,
        Instance.novita_instance_id.is_(None),
        Instance.deleted_at.is_(None),
    )
    deleted_before_confirmed = and_(
        Instance.status == Status.DELETED.value,
        Instance.novita_instance_id.is_(None),
        Instance.create_sent_at.is_not(None),
        Instance.desired_status == Status.DELETED.value,
        Instance.deleted_at > now - ORPHAN_WATCH,
    )
    return or_(unconfirmed_create, deleted_before_confirmed)


async def recover_creates(job: JobContext) -> None:
    ctx = job.ctx
    now = ctx.clock.now()
    async with ctx.db.write() as session, session.begin():
        ids = await InstanceRepository(session).claim(
            _candidates(now),  # type: ignore[arg-type]
            owner=job.owner,
            now=now,
            hold=timedelta(seconds=ctx.settings.upstream_timeout_seconds * 4 + 30),
            limit=BATCH,
        )
    for instance_id in ids:
        try:
            await _recover(ctx, instance_id, job.owner)
        except (UpstreamError, ServiceError) as exc:
            _log.info("create recovery postponed", instance_id=instance_id, error=str(exc))
    async with ctx.db.write() as session, session.begin():
        await InstanceRepository(session).release(ids, job.owner)


async def _recover(ctx: AppContext, instance_id: str, owner: str) -> None:
    async with ctx.db.read() as session:
        instance = await session.get(Instance, instance_id)
    if instance is None or instance.novita_instance_id is not None:
        return
    found = await locate_created(ctx.upstream, instance)
    if found is not None:
        await _adopt_found(ctx, instance, found)
        return
    if instance.status == Status.DELETED.value:
        return
    now = ctx.clock.now()
    if instance.create_sent_at is not None and now - instance.create_sent_at < _settle(ctx):
        return  # the create may still be in flight, or upstream may simply not list it yet
    give_up = timedelta(minutes=ctx.settings.create_give_up_minutes)
    exhausted = instance.create_attempts >= MAX_CREATE_ATTEMPTS
    if now - instance.created_at >= give_up or exhausted:
        await update_instance(ctx, instance_id, _give_up)
        return
    await _send_again(ctx, instance, owner)


async def _adopt_found(ctx: AppContext, instance: Instance, found: UpstreamInstance) -> None:
    """Record the Novita id. A row the user deleted meanwhile becomes a durable delete
    intent (``deleting`` + ``desired_status = deleted``) that the intents job sends and
    retries until Novita accepts it, so a paid instance is never left running untracked."""

    async def change(uow: UnitOfWork, row: Instance) -> None:
        row.novita_instance_id = found.id
        row.next_sync_at = uow.recorder.clock.now()
        if row.status == Status.DELETED.value:
            row.upstream_status = found.status
            row.desired_status = Status.DELETED.value
            await change_status(
                uow.recorder,
                row,
                Status.DELETING,
                data={"reason": "surfaced_after_delete"},
            )

    await update_instance(ctx, instance.id, change)
    if instance.status == Status.DELETED.value:
        _log.info("an instance surfaced after its delete; delete queued", instance_id=instance.id)


def _settle(ctx: AppContext) -> timedelta:
    """How long after a send an unlisted create counts as not created: the request may be
    processed upstream until our timeout ends it, then take the listing delay to show up."""
    settings = ctx.settings
    return timedelta(
        seconds=settings.upstream_timeout_seconds + settings.create_listing_delay_seconds
    )


def _refused(placement: Placement) -> Change:
    """Upstream definitely refused the create (no capacity anywhere, invalid request)."""
    regions = ", ".join(f"{s['region']}: {s['reason']}" for s in placement.skipped)
    reason = f"Novita refused the create: {placement.error}" + (f" ({regions})" if regions else "")

    async def change(uow: UnitOfWork, instance: Instance) -> None:
        if instance.novita_instance_id is None and instance.status == Status.CREATING.value:
            await change_status(uow.recorder, instance, Status.FAILED, error=reason)
            instance.deleted_at = uow.recorder.clock.now()

    return change


async def _give_up(uow: UnitOfWork, instance: Instance) -> None:
    if instance.novita_instance_id is not None or instance.status != Status.CREATING.value:
        return
    await change_status(
        uow.recorder,
        instance,
        Status.FAILED,
        error=(
            f"Create could not be completed on Novita after {instance.create_attempts} attempt(s)"
        ),
    )
    instance.deleted_at = uow.recorder.clock.now()


async def _send_again(ctx: AppContext, instance: Instance, owner: str) -> None:
    offers = await ctx.catalog.choose_offers(
        OfferQuery(
            product_name=instance.product_name,
            region=instance.region,
            regions=list(instance.regions_allowed or []) or None,
            billing_mode="spot" if instance.billing_mode == "spot" else "onDemand",
            max_price_per_hour=instance.max_price_per_hour,
            gpu_num=instance.gpu_num,
            rootfs_size=instance.rootfs_size,
        )
    )
    placement = await place(ctx, instance.id, offers, owner=owner)
    if placement.novita_id is None:
        if isinstance(placement.error, UpstreamRequestError):
            await update_instance(ctx, instance.id, _refused(placement))
        return

    async def change(uow: UnitOfWork, row: Instance) -> None:
        row.novita_instance_id = placement.novita_id
        row.upstream_status = "toCreate"

    await update_instance(ctx, instance.id, change)
