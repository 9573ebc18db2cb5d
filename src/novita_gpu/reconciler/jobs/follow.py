"""Following fresh transitions: one GET per instance, every second, for a short while.

A stop, start, delete or create usually completes upstream within seconds. The listing pass
(:mod:`status_sync`) sees it at its next fast tick; this job sees it within about a second by
reading the few instances that entered such a status recently, so the event reaches
subscribers promptly. Its cost is bounded: at most :data:`FOLLOW_LIMIT` upstream calls per
tick, and only during the first :data:`FOLLOW_WINDOW` of a transition; the listing pass covers
everything else. A tick reads, whichever costs fewest calls for what it follows:

- one GET per instance (the longest-waiting first), when few are followed;
- a whole listing, when many are and the account is small;
- in a large account, the listing of the instances upstream reports in the status the
  followed ones are heading to (``running`` after a create or start, ``exited`` after a stop):
  a burst of stops is seen in a page or two instead of eight GETs a second.

It concludes nothing from an absence except for an instance we are deleting (a 404 then means
the delete is done); any other 404 is left to the listing pass and its safeguards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import structlog

from novita_gpu.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import Change, UnitOfWork, update_instance
from novita_gpu.reconciler.jobs.readiness import JOB_NAME as READINESS_JOB
from novita_gpu.reconciler.jobs.status_sync import (
    PAGE_SIZE,
    listing_pass,
    needs_update,
    snapshot_folder,
    write_changes,
)
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.upstream import InstanceStatus, UpstreamError, UpstreamNotFound

_log = structlog.get_logger("reconciler.follow")

FOLLOW_INTERVAL = 1.0
FOLLOW_LIMIT = 8
FOLLOW_WINDOW = timedelta(seconds=60)
# Statuses that end with a change upstream we wait for. Readiness probes follow ``running``
# and ``health_checking``; spot recovery follows its own migrations.
FOLLOWED = frozenset({Status.CREATING, Status.STARTING, Status.STOPPING, Status.DELETING})
# What upstream reports once each followed transition is done (a delete ends in an absence,
# which a filtered listing cannot show: deletes are left to GETs and the listing pass).
HEADING_TO = {
    Status.CREATING.value: InstanceStatus.RUNNING.value,
    Status.STARTING.value: InstanceStatus.RUNNING.value,
    Status.STOPPING.value: InstanceStatus.EXITED.value,
}
# At most this many followed instances are matched against the arrivals listings of a tick.
MAX_MATCHED = 2000


async def follow_transitions(job: JobContext) -> None:
    """One tick: read the recently changed instances upstream and fold what changed (see the
    module docstring for how they are read)."""
    ctx = job.ctx
    now = ctx.clock.now()
    async with ctx.db.read() as session:
        repository = InstanceRepository(session)
        followed = await repository.changed_recently(FOLLOWED, now - FOLLOW_WINDOW, MAX_MATCHED)
        many = len(followed) > FOLLOW_LIMIT
        small_account = many and await repository.count_known_upstream() <= (
            FOLLOW_LIMIT * PAGE_SIZE
        )
    if small_account:
        await listing_pass(ctx, now)
        return
    if many and any(status in HEADING_TO for _, _, status in followed):
        await _arrivals_pass(ctx, followed)
        return
    first = followed[:FOLLOW_LIMIT]
    await asyncio.gather(*(_follow(ctx, local_id, novita_id) for local_id, novita_id, _ in first))


async def _arrivals_pass(ctx: AppContext, followed: Sequence[tuple[str, str, str]]) -> None:
    """List the instances upstream reports in each status the followed ones are heading to
    (within :data:`FOLLOW_LIMIT` pages in all) and fold the followed ones found there.

    Only what a listing shows is used: an instance missing from it has simply not arrived
    yet (or is on a page not read), so nothing is concluded from its absence.
    """
    heading = {novita: (local, HEADING_TO.get(status)) for local, novita, status in followed}
    targets = sorted({target for _, target in heading.values() if target is not None})
    changes: dict[str, Change] = {}
    for target in targets:
        observed_at = ctx.clock.now()
        try:
            listing = await ctx.upstream.read_listing(
                page_size=PAGE_SIZE, status=target, max_pages=FOLLOW_LIMIT // len(targets)
            )
        except UpstreamError as exc:
            _log.debug("could not list arrivals", status=target, error=str(exc))
            continue
        for snapshot in listing.instances:
            instance_id, expected = heading.get(snapshot.id, (None, None))
            if instance_id is not None and snapshot.status == expected:
                changes[instance_id] = snapshot_folder(ctx, snapshot, observed_at=observed_at)
    await write_changes(ctx, changes)


async def _follow(ctx: AppContext, instance_id: str, novita_id: str) -> None:
    observed_at = ctx.clock.now()
    try:
        snapshot = await ctx.upstream.get_instance(novita_id)
    except UpstreamNotFound:
        await update_instance(ctx, instance_id, _deleted_if_deleting)
        return
    except UpstreamError as exc:
        _log.debug("could not follow an instance", instance_id=instance_id, error=str(exc))
        return
    async with ctx.db.read() as session:
        row = await InstanceRepository(session).get(instance_id)
    if row is not None and needs_update(row, snapshot):
        await update_instance(
            ctx, instance_id, snapshot_folder(ctx, snapshot, observed_at=observed_at)
        )
        if ctx.runner is not None:
            ctx.runner.wake(READINESS_JOB)  # a create or start that went running: probe now


async def _deleted_if_deleting(uow: UnitOfWork, instance: Instance) -> None:
    if instance.status == Status.DELETING.value:
        await change_status(uow.recorder, instance, Status.DELETED)
