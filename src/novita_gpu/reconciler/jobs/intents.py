"""Intents: finish actions upstream could not take when they were asked for.

A stop asked while the instance was still booting (upstream refuses a stop before
``running``) is remembered as ``desired_status = stopped``; a delete asked before the create
was confirmed is remembered as ``desired_status = deleted``. Once upstream allows it, this job
sends the call; the status sync then sees the instance reach ``exited``/``removed``. A delete
of a tombstone (an instance that surfaced after the user deleted it) is retried here until
Novita accepts it.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import and_

from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import Change, UnitOfWork, update_instance
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.upstream import UpstreamError, UpstreamInvalidState, UpstreamNotFound

_log = structlog.get_logger("reconciler.intents")
BATCH = 50
# Upstream statuses from which a stop / delete is accepted.
_STOPPABLE_UPSTREAM = ("running",)
_REMOVING_UPSTREAM = ("toRemove", "removing", "removed")


async def complete_intents(job: JobContext) -> None:
    ctx = job.ctx
    now = ctx.clock.now()
    pending = and_(
        Instance.novita_instance_id.is_not(None),
        Instance.desired_status.is_not(None),
        Instance.status.in_([Status.STOPPING.value, Status.DELETING.value]),
    )
    async with ctx.db.write() as session, session.begin():
        ids = await InstanceRepository(session).claim(
            pending, owner=job.owner, now=now, hold=timedelta(minutes=2), limit=BATCH
        )
    async with ctx.db.read() as session:
        rows = list(await InstanceRepository(session).get_many(ids))
    for row in rows:
        await _complete(job, row)
    async with ctx.db.write() as session, session.begin():
        await InstanceRepository(session).release(ids, job.owner)


async def _complete(job: JobContext, row: Instance) -> None:
    novita_id = row.novita_instance_id
    assert novita_id is not None
    try:
        if (
            row.desired_status == Status.STOPPED.value
            and row.upstream_status in _STOPPABLE_UPSTREAM
        ):
            result = await job.ctx.upstream.stop_instance(novita_id)
            await update_instance(job.ctx, row.id, _sent(result.state or "toStop"))
        elif (
            row.desired_status == Status.DELETED.value
            and row.upstream_status not in _REMOVING_UPSTREAM
        ):
            result = await job.ctx.upstream.delete_instance(novita_id)
            await update_instance(job.ctx, row.id, _sent(result.state or "toRemove"))
    except UpstreamNotFound:
        if row.deleted_at is not None:  # a tombstone's late delete: already gone is done
            await update_instance(job.ctx, row.id, _sent("removed"))
        return  # otherwise the status sync settles it
    except UpstreamInvalidState:
        return  # not yet possible
    except UpstreamError as exc:
        _log.info("intent postponed", instance_id=row.id, error=str(exc))


def _sent(upstream_state: str) -> Change:
    async def change(uow: UnitOfWork, instance: Instance) -> None:
        instance.upstream_status = upstream_state
        if instance.desired_status == Status.STOPPED.value:
            instance.desired_status = None
        elif instance.deleted_at is not None and instance.status == Status.DELETING.value:
            # A tombstone (deleted before its create was confirmed) whose instance surfaced:
            # the status sync does not follow tombstones, so Novita's acceptance ends it here.
            await change_status(uow.recorder, instance, Status.DELETED)

    return change
