"""The upstream moves of a spot recovery: migrate, recreate, delete the reclaimed instance.

Each move commits its phase first (:mod:`novita_gpu.spot.record`), then calls upstream, then
records the answer. An answer that is lost leaves the phase as it was; :func:`advance` picks it
up on the next tick from what upstream shows (the migration job, or the new instance found by
name and marker), so nothing is sent twice and no paid instance goes untracked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from novita_gpu.catalog.service import Offer
from novita_gpu.context import AppContext
from novita_gpu.core.errors import ServiceError
from novita_gpu.db.models import Instance
from novita_gpu.instances.placement import offer_query_for, place
from novita_gpu.instances.states import Status
from novita_gpu.instances.upstream_lookup import locate_created
from novita_gpu.spot import record
from novita_gpu.spot.phases import Phase
from novita_gpu.upstream import (
    Job,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamInvalidState,
    UpstreamNotFound,
    UpstreamRequestError,
)

_log = structlog.get_logger("spot")

MAX_CREATE_ATTEMPTS = 3
JOB_TYPE = "instanceMigrate"
_JOB_PAGE = 50
_GONE = frozenset({Status.DELETING.value, Status.DELETED.value})
_RUNNING_JOB = frozenset({"pulling", "running", ""})
_ENDED_BADLY = frozenset({"fail", "break"})
# Upstream and local clocks differ; a migration job may look a little older than our send.
_SKEW = timedelta(minutes=5)


async def start(ctx: AppContext, row: Instance, owner: str) -> None:
    """Start the recovery ``spotRecovery`` asks for (``migrate`` falls back to recreate)."""
    if row.spot_recovery == "recreate":
        await start_recreate(ctx, row.id, owner, reason=None)
    else:
        await start_migrate(ctx, row.id, owner)


async def start_migrate(ctx: AppContext, instance_id: str, owner: str) -> None:
    row = await record.begin_migrate(ctx, instance_id)
    if row is None or row.novita_instance_id is None:
        return
    try:
        result = await ctx.upstream.migrate_instance(row.novita_instance_id)
    except UpstreamInsufficientResource as exc:
        await start_recreate(ctx, instance_id, owner, reason=f"no capacity to migrate ({exc})")
        return
    except UpstreamInvalidState:
        return  # perhaps already migrating: advance() reads the job
    except UpstreamRequestError as exc:
        await start_recreate(ctx, instance_id, owner, reason=f"migrate refused ({exc})")
        return
    except UpstreamError as exc:
        _log.info("migrate outcome unknown", instance_id=instance_id, error=str(exc))
        return
    await record.migration_started(ctx, instance_id, result.job_id, result.new_instance_id)


async def start_recreate(
    ctx: AppContext, instance_id: str, owner: str, *, reason: str | None
) -> None:
    row = await record.begin_recreate(ctx, instance_id, reason)
    if row is not None:
        await _send_recreate(ctx, row, owner)


def _cheapest_first(offers: list[Offer], row: Instance) -> list[Offer]:
    """Without a ``regions`` list, the cheapest region goes first (not the default region)."""
    if row.regions_allowed:
        return offers
    return sorted(offers, key=lambda o: (o.price_units, o.region, o.product_id))


async def _send_recreate(ctx: AppContext, row: Instance, owner: str) -> None:
    try:
        offers = await ctx.catalog.choose_offers(offer_query_for(row, region=None))
    except ServiceError as exc:
        await _fail(ctx, row.id, f"no offer to recreate it on: {exc.message}")
        return
    placement = await place(ctx, row.id, _cheapest_first(offers, row), owner=owner)
    if placement.novita_id is not None:
        await _record_new(ctx, row.id, placement.novita_id)
    elif isinstance(placement.error, UpstreamInsufficientResource):
        await _fail(ctx, row.id, "no region had capacity to recreate it")
    elif isinstance(placement.error, UpstreamRequestError):
        await _fail(ctx, row.id, f"Novita refused the create: {placement.error}")


async def _record_new(ctx: AppContext, instance_id: str, new_id: str) -> None:
    if await record.recreated(ctx, instance_id, new_id):
        ctx.metrics.spot_recoveries.labels("recreated").inc()
        await cleanup(ctx, instance_id)
        return
    await _delete_unwanted(ctx, instance_id, new_id)


async def _delete_unwanted(ctx: AppContext, instance_id: str, novita_id: str) -> None:
    """The instance was deleted while its recreate was on its way: the new upstream instance
    must not run unnoticed. A failure raises, so the recovery stays to be tried again."""
    _log.info("deleting a recreated instance nobody wants", instance_id=instance_id)
    try:
        await ctx.upstream.delete_instance(novita_id)
    except UpstreamNotFound:
        return


async def _fail(ctx: AppContext, instance_id: str, reason: str) -> None:
    if await record.recovery_failed(ctx, instance_id, reason):
        ctx.metrics.spot_recoveries.labels("failed").inc()


async def cleanup(ctx: AppContext, instance_id: str) -> None:
    """Delete the reclaimed upstream instance a recreate replaced (not-found counts as done)."""
    async with ctx.db.read() as session:
        row = await session.get(Instance, instance_id)
    if row is None or row.recovery_phase != Phase.CLEANUP or not row.reclaimed_novita_id:
        return
    try:
        await ctx.upstream.delete_instance(row.reclaimed_novita_id)
    except UpstreamNotFound:
        pass
    except UpstreamError as exc:
        _log.info("reclaimed instance not deleted yet", instance_id=instance_id, error=str(exc))
        return
    await record.cleaned_up(ctx, instance_id)


async def advance(ctx: AppContext, row: Instance, owner: str) -> None:
    """One step of an in-flight recovery, from what upstream shows now."""
    if row.status in _GONE and row.recovery_phase != Phase.CLEANUP:
        await _abandon(ctx, row)
        return
    match row.recovery_phase:
        case Phase.MIGRATE_SENT | Phase.MIGRATING:
            await _follow_migration(ctx, row, owner)
        case Phase.RECREATING:
            await _follow_recreate(ctx, row, owner)
        case Phase.CLEANUP:
            await cleanup(ctx, row.id)
        case _:
            return


async def _abandon(ctx: AppContext, row: Instance) -> None:
    """Stop a recovery the user ended by deleting the instance; a recreate that may have
    reached upstream is looked up first, and what it made is deleted."""
    if row.recovery_phase == Phase.RECREATING and row.create_sent_at is not None:
        found = await locate_created(ctx.upstream, row)
        if found is not None:
            await _delete_unwanted(ctx, row.id, found.id)
        elif _recently(ctx, row.create_sent_at):
            return  # upstream may not list it yet
    await record.abandoned(ctx, row.id)


async def _migration_job(ctx: AppContext, row: Instance) -> Job | None:
    """This recovery's migration job: by id when known, else the newest for the instance."""
    if row.migration_job_id:
        page = await ctx.upstream.list_jobs(page_size=1, page_num=1, job_id=row.migration_job_id)
        return page.jobs[0] if page.jobs else None
    page = await ctx.upstream.list_jobs(page_size=_JOB_PAGE, page_num=1, type=JOB_TYPE)
    started = row.recovery_started_at
    ours = [
        job
        for job in page.jobs
        if job.instance_id == row.novita_instance_id
        and (started is None or job.created_at is None or job.created_at >= started - _SKEW)
    ]
    ours.sort(key=lambda job: job.created_at.timestamp() if job.created_at else 0, reverse=True)
    return ours[0] if ours else None


async def _follow_migration(ctx: AppContext, row: Instance, owner: str) -> None:
    novita_id = row.novita_instance_id
    if novita_id is None:
        return
    job = await _migration_job(ctx, row)
    state = job.state.state if job else None
    if job is not None and state in _RUNNING_JOB:
        if row.recovery_phase == Phase.MIGRATE_SENT or not row.migration_job_id:
            await record.migration_started(ctx, row.id, job.id)
        return
    if state in _ENDED_BADLY:
        message = (job.state.error_message or job.state.error or state) if job else state
        await start_recreate(ctx, row.id, owner, reason=f"migration job ended: {message}")
        return
    snapshot = await ctx.upstream.get_instance(novita_id)
    if state == "success" or (job is None and snapshot.status == "running"):
        if await record.migrated(ctx, row.id, snapshot):
            ctx.metrics.spot_recoveries.labels("migrated").inc()
        return
    if snapshot.status == "migrating" or _recently(ctx, row.recovery_started_at):
        return
    await start_recreate(ctx, row.id, owner, reason="no migration job was found")


def _recently(ctx: AppContext, since: datetime | None) -> bool:
    delay = timedelta(seconds=ctx.settings.create_listing_delay_seconds)
    return since is not None and ctx.clock.now() - since < delay


async def _follow_recreate(ctx: AppContext, row: Instance, owner: str) -> None:
    if row.create_sent_at is None:
        await _send_recreate(ctx, row, owner)
        return
    found = await locate_created(ctx.upstream, row)
    if found is not None:
        await _record_new(ctx, row.id, found.id)
    elif _recently(ctx, row.create_sent_at):
        return  # upstream may simply not list it yet
    elif row.create_attempts >= MAX_CREATE_ATTEMPTS:
        await _fail(ctx, row.id, f"the create did not succeed in {row.create_attempts} attempts")
    else:
        await _send_recreate(ctx, row, owner)
