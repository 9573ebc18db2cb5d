"""Startup timeouts: an instance stuck creating or starting becomes ``failed`` with the reason.

The instance is left as it is upstream (it may still come up; the user decides whether to
stop, start or delete it); only our verdict changes, and the event tells the caller.
"""

from __future__ import annotations

from datetime import timedelta

from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import UnitOfWork, update_instance
from novita_gpu.reconciler.runner import JobContext

_WATCHED = (Status.CREATING.value, Status.STARTING.value)


async def fail_slow_startups(job: JobContext) -> None:
    ctx = job.ctx
    limit = timedelta(minutes=ctx.settings.instance_startup_timeout_minutes)
    cutoff = ctx.clock.now() - limit
    async with ctx.db.read() as session:
        ids = await InstanceRepository(session).ids_in_status_since_before(_WATCHED, cutoff)
    minutes = ctx.settings.instance_startup_timeout_minutes

    async def change(uow: UnitOfWork, instance: Instance) -> None:
        if instance.status not in _WATCHED or instance.status_changed_at >= cutoff:
            return
        reason = (
            f"Startup timed out: still {instance.status} after {minutes} minutes"
            f" (upstream status {instance.upstream_status or 'unknown'})"
        )
        await change_status(uow.recorder, instance, Status.FAILED, error=reason)

    for instance_id in ids:
        await update_instance(ctx, instance_id, change)
