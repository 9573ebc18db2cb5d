"""Following fresh transitions: one GET per instance, every second, for a short while.

A stop, start, delete or create usually completes upstream within seconds. The listing pass
(:mod:`status_sync`) sees it at its next fast tick; this job sees it within about a second by
reading the few instances that entered such a status recently, so the event reaches
subscribers promptly. Its cost is bounded: at most :data:`FOLLOW_LIMIT` GETs per tick (the
longest-waiting first), and only during the first :data:`FOLLOW_WINDOW` of a transition; the
listing pass covers everything else, as before.

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
from novita_gpu.reconciler.jobs.status_sync import needs_update, snapshot_folder
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
    """One tick: read each recently changed instance upstream and fold what changed."""
    ctx = job.ctx
    since = ctx.clock.now() - FOLLOW_WINDOW
    async with ctx.db.read() as session:
        followed = await InstanceRepository(session).changed_recently(FOLLOWED, since, FOLLOW_LIMIT)
    await asyncio.gather(
        *(_follow(ctx, instance_id, novita_id) for instance_id, novita_id in followed)
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
