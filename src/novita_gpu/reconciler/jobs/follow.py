"""Following fresh transitions: one GET per instance, every second, for a short while.

A stop, start, delete or create usually completes upstream within seconds. The listing pass
(:mod:`status_sync`) sees it at its next fast tick; this job sees it within about a second by
reading the few instances that entered such a status recently, so the event reaches
subscribers promptly. Its cost is bounded: at most :data:`FOLLOW_LIMIT` upstream calls per
tick (GETs, the longest-waiting first, or one listing when that is cheaper), and only during
the first :data:`FOLLOW_WINDOW` of a transition; the listing pass covers everything else.

It concludes nothing from an absence except for an instance we are deleting (a 404 then means
the delete is done); any other 404 is left to the listing pass and its safeguards.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from novita_gpu.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import UnitOfWork, update_instance
from novita_gpu.reconciler.jobs.status_sync import (
    PAGE_SIZE,
    listing_pass,
    needs_update,
    snapshot_folder,
)
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.upstream import UpstreamError, UpstreamNotFound

_log = structlog.get_logger("reconciler.follow")

FOLLOW_INTERVAL = 1.0
FOLLOW_LIMIT = 8
FOLLOW_WINDOW = timedelta(seconds=60)
# Statuses that end with a change upstream we wait for. Readiness probes follow ``running``
# and ``health_checking``; spot recovery follows its own migrations.
FOLLOWED = frozenset({Status.CREATING, Status.STARTING, Status.STOPPING, Status.DELETING})


async def follow_transitions(job: JobContext) -> None:
    """One tick: read each recently changed instance upstream and fold what changed.

    When more instances are in fresh transitions than one tick reads and a whole listing
    costs no more calls than that, the tick runs a listing pass instead (a burst of stops).
    """
    ctx = job.ctx
    now = ctx.clock.now()
    async with ctx.db.read() as session:
        repository = InstanceRepository(session)
        window = now - FOLLOW_WINDOW
        followed = await repository.changed_recently(FOLLOWED, window, FOLLOW_LIMIT + 1)
        listing_is_cheaper = (
            len(followed) > FOLLOW_LIMIT
            and await repository.count_known_upstream() <= FOLLOW_LIMIT * PAGE_SIZE
        )
    if listing_is_cheaper:
        await listing_pass(ctx, now)
        return
    await asyncio.gather(
        *(
            _follow(ctx, instance_id, novita_id)
            for instance_id, novita_id in followed[:FOLLOW_LIMIT]
        )
    )


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


async def _deleted_if_deleting(uow: UnitOfWork, instance: Instance) -> None:
    if instance.status == Status.DELETING.value:
        await change_status(uow.recorder, instance, Status.DELETED)
