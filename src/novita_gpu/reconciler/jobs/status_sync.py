"""Status sync: fold upstream's view into every managed instance with paged list calls.

One pass lists all upstream instances (one call per page) and updates the rows that changed,
so N instances cost N/pageSize calls, not N GETs. A pass runs every
fast tick while any instance is in transition, otherwise once per ``INSTANCE_POLL_INTERVAL``.
Instances missing from a complete listing are confirmed with one GET each before they are
declared deleted (we were deleting them) or terminated (they vanished). A listing that is not
complete (a page budget ran out, fewer instances seen than upstream counted, an unreadable item
without an id) still updates the instances it shows, but nothing is concluded from an absence:
no instance is confirmed missing on partial data. Upstream-only instances are never touched.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import structlog

from novita_gpu.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository, SyncRow
from novita_gpu.instances.snapshot import apply_snapshot
from novita_gpu.instances.states import TRANSITIONAL, Status, fold_upstream_status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import Change, UnitOfWork, update_instance, update_instances
from novita_gpu.reconciler.jobs.readiness import JOB_NAME as READINESS_JOB
from novita_gpu.reconciler.leases import LeaseRepository
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.spot.reclaim import ReclaimPolicy, fold_spot
from novita_gpu.upstream import (
    InstanceListing,
    UpstreamError,
    UpstreamInstance,
    UpstreamNotFound,
)

_log = structlog.get_logger("reconciler.status_sync")

FULL_PASS_MARK = "mark:status_sync:full"  # noqa: S105 - a lease name, not a secret
PAGE_SIZE = 100
# Changed instances written per transaction: one commit for many rows, yet short write locks
# (on SQLite a long transaction would hold up every other writer, webhook attempts included).
WRITE_BATCH = 25
# Missing instances confirmed per pass (each costs one GET).
MAX_CONFIRMATIONS = 25
# An instance created this recently may be absent from a listing taken while it was created.
_LISTING_GRACE = timedelta(seconds=30)
_ON_THE_WAY_UP = frozenset(
    {Status.CREATING, Status.STARTING, Status.RUNNING, Status.HEALTH_CHECKING, Status.READY}
)


async def _pass_due(ctx: AppContext, now: datetime) -> bool:
    async with ctx.db.read() as session:
        if await InstanceRepository(session).count_in(TRANSITIONAL):
            return True
        last = await LeaseRepository(session).last_mark(FULL_PASS_MARK)
    slow = timedelta(seconds=ctx.settings.instance_poll_interval)
    return last is None or now - last >= slow * 0.9


def _fingerprint(instance: Instance) -> tuple[object, ...]:
    return (
        instance.status,
        instance.upstream_status,
        instance.spot_status,
        instance.spot_reclaim_time,
        instance.cluster_id,
        instance.region,
        repr(instance.port_mappings),
    )


def _upstream_failure(instance: Instance, snapshot: UpstreamInstance) -> str | None:
    """Upstream's failure message when it explains why an instance on its way up is not."""
    error = snapshot.status_error
    if error is None or not error.message or snapshot.status == "running":
        return None
    return error.message if Status(instance.status) in _ON_THE_WAY_UP else None


async def fold_snapshot(
    uow: UnitOfWork,
    instance: Instance,
    snapshot: UpstreamInstance,
    *,
    detailed: bool,
    spot: ReclaimPolicy,
) -> bool:
    """Apply a snapshot and the status it implies (a spot reclaim's included); True if
    anything changed."""
    before = _fingerprint(instance)
    apply_snapshot(instance, snapshot, detailed=detailed)
    error = _upstream_failure(instance, snapshot)
    if error is not None:
        await change_status(uow.recorder, instance, Status.FAILED, error=f"Novita: {error}")
    else:
        status = fold_upstream_status(Status(instance.status), snapshot.status)
        if not await fold_spot(uow, instance, status, spot):
            await change_status(uow.recorder, instance, status)
    changed = _fingerprint(instance) != before
    if changed:
        instance.updated_at = uow.recorder.clock.now()
    return changed


async def _apply_listing(ctx: AppContext, listing: InstanceListing, started: datetime) -> list[str]:
    """Update every managed row from ``listing``; return ids of rows missing from it (none
    when the listing cannot show an absence)."""
    async with ctx.db.read() as session:
        rows = await InstanceRepository(session).sync_rows()
    by_id = {item.id: item for item in listing.instances}
    trust_absence = listing.absence_is_meaningful
    unreadable = listing.skipped_ids
    missing: list[str] = []
    changes: dict[str, Change] = {}
    for row in rows:
        snapshot = by_id.get(row.novita_instance_id)
        if snapshot is None:
            if trust_absence and _may_be_missing(row, unreadable, started):
                missing.append(row.id)
            continue
        if needs_update(row, snapshot):
            changes[row.id] = snapshot_folder(ctx, snapshot, observed_at=started)
    await write_changes(ctx, changes)
    return missing


async def write_changes(ctx: AppContext, changes: dict[str, Change]) -> None:
    """Write folded changes in batches of :data:`WRITE_BATCH` rows per transaction, then wake
    readiness to probe what just went running now, not at its next tick."""
    batch = list(changes.items())
    for start in range(0, len(batch), WRITE_BATCH):
        await update_instances(ctx, dict(batch[start : start + WRITE_BATCH]))
    if changes and ctx.runner is not None:
        ctx.runner.wake(READINESS_JOB)


def _may_be_missing(row: SyncRow, unreadable: set[str], started: datetime) -> bool:
    """Whether a row absent from a complete listing is worth confirming with a GET."""
    if row.novita_instance_id in unreadable:
        return False
    return row.created_at < started - _LISTING_GRACE and row.status != Status.TERMINATED.value


def needs_update(row: SyncRow | Instance, snapshot: UpstreamInstance) -> bool:
    """Cheap pre-check so an unchanged instance costs no write (and no ORM load)."""
    if row.upstream_status != snapshot.status or row.spot_status != snapshot.spot_status:
        return True
    if row.spot_reclaim_time != snapshot.spot_reclaim_time:
        return True
    return fold_upstream_status(Status(row.status), snapshot.status).value != row.status


def snapshot_folder(
    ctx: AppContext, snapshot: UpstreamInstance, *, observed_at: datetime
) -> Change:
    """The change that folds ``snapshot``, read from upstream at ``observed_at``, into a row.

    A row whose status changed after ``observed_at`` is left alone: the snapshot may predate
    that change (another job followed the instance meanwhile), and folding it would step the
    status back. The next read folds the newer view.
    """
    spot = ReclaimPolicy(ctx.settings.migration_enabled, ctx.metrics)

    async def change(uow: UnitOfWork, instance: Instance) -> None:
        if instance.status_changed_at > observed_at:
            return
        await fold_snapshot(uow, instance, snapshot, detailed=False, spot=spot)

    return change


async def _confirm_missing(ctx: AppContext, instance_id: str) -> None:
    async with ctx.db.read() as session:
        row = await session.get(Instance, instance_id)
    if row is None or row.novita_instance_id is None:
        return
    observed_at = ctx.clock.now()
    try:
        snapshot = await ctx.upstream.get_instance(row.novita_instance_id)
    except UpstreamNotFound:
        await update_instance(ctx, instance_id, _gone)
        return
    except UpstreamError as exc:
        _log.info("could not confirm a missing instance", instance_id=instance_id, error=str(exc))
        return
    await update_instance(ctx, instance_id, snapshot_folder(ctx, snapshot, observed_at=observed_at))


async def _gone(uow: UnitOfWork, instance: Instance) -> None:
    if instance.status in {Status.DELETING.value, Status.DELETED.value}:
        await change_status(uow.recorder, instance, Status.DELETED)
        return
    instance.upstream_status = None
    await change_status(
        uow.recorder,
        instance,
        Status.TERMINATED,
        error="Instance disappeared from Novita without a delete from this service",
    )


def _log_partial_change(ctx: AppContext, listing: InstanceListing) -> None:
    """Record the walk for /health; log once when listings turn partial or whole again."""
    previous = ctx.upstream.health.last_sync
    was_partial = previous is not None and not previous.absence_meaningful
    ctx.upstream.health.record_sync(listing)
    partial = not listing.absence_is_meaningful
    if partial and not was_partial:
        _log.warning(
            "status sync on partial data: no instance is treated as missing",
            seen=listing.describe(),
        )
    elif was_partial and not partial:
        _log.info("status sync listings are complete again", seen=listing.describe())


async def sync_statuses(job: JobContext) -> None:
    """One status-sync tick (see the module docstring)."""
    started = job.ctx.clock.now()
    if await _pass_due(job.ctx, started):
        await listing_pass(job.ctx, started)


async def listing_pass(ctx: AppContext, started: datetime) -> None:
    """List every upstream instance now and fold the listing into the managed rows."""
    timer = time.perf_counter()
    listing = await ctx.upstream.read_listing(page_size=PAGE_SIZE)
    _log_partial_change(ctx, listing)
    missing = await _apply_listing(ctx, listing, started)
    for instance_id in missing[:MAX_CONFIRMATIONS]:
        await _confirm_missing(ctx, instance_id)
    if not listing.complete:
        return  # not a full pass: the next tick tries again
    elapsed_ms = int((time.perf_counter() - timer) * 1000)
    async with ctx.db.write() as session, session.begin():
        await LeaseRepository(session).mark(FULL_PASS_MARK, started, elapsed_ms)
