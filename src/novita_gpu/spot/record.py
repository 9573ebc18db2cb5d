"""Row changes of a spot recovery, each one write transaction through ``update_instance``.

Every change re-checks the phase it expects on the fresh row, so a change applied twice (a
version-conflict retry, a second replica) or too late (the user deleted the instance) does
nothing. None of them talks to upstream.
"""

from __future__ import annotations

from typing import Any

from novita_gpu.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.events.types import EventType
from novita_gpu.instances.snapshot import apply_snapshot
from novita_gpu.instances.states import Status, status_for_upstream
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import UnitOfWork, update_instance
from novita_gpu.spot.phases import IN_FLIGHT, TO_START, Phase, outcome
from novita_gpu.upstream import UpstreamInstance

_MIGRATE_FROM = frozenset(TO_START)
_RECREATE_FROM = frozenset((*TO_START, Phase.MIGRATE_SENT, Phase.MIGRATING))
_GONE = frozenset({Status.DELETING.value, Status.DELETED.value})


def _recovered(row: Instance, record: dict[str, Any]) -> None:
    """Bookkeeping of a recovery that brought the instance back."""
    row.recovery_attempts = 0
    row.spot_recoveries = (row.spot_recoveries or 0) + 1
    row.last_recovery = record
    row.last_error = None
    row.migration_job_id = None
    row.spot_notice_sent = False
    row.health_check = {}


async def begin_migrate(ctx: AppContext, instance_id: str) -> Instance | None:
    """``migrate_sent`` + ``instance.migrating``; the row, or None if it is not startable."""

    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.recovery_phase not in _MIGRATE_FROM or row.status in _GONE:
            return
        row.recovery_phase = Phase.MIGRATE_SENT
        row.recovery_started_at = uow.recorder.clock.now()
        row.migration_job_id = None
        data = {"mode": "migrate", "novitaInstanceId": row.novita_instance_id}
        await change_status(
            uow.recorder, row, Status.MIGRATING, event_type=EventType.MIGRATING, data=data
        )

    row = await update_instance(ctx, instance_id, change)
    return row if row is not None and row.recovery_phase == Phase.MIGRATE_SENT else None


async def migration_started(
    ctx: AppContext, instance_id: str, job_id: str | None, new_id: str | None = None
) -> None:
    """The migration job runs; ``new_id``: Novita said the instance continues under a new id."""

    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.recovery_phase in (Phase.MIGRATE_SENT, Phase.MIGRATING):
            row.recovery_phase = Phase.MIGRATING
            row.migration_job_id = job_id or row.migration_job_id
            if new_id and new_id != row.novita_instance_id:
                row.novita_instance_id = new_id

    await update_instance(ctx, instance_id, change)


async def migrated(ctx: AppContext, instance_id: str, snapshot: UpstreamInstance) -> bool:
    """The migration job succeeded: ``instance.migrated``, then readiness as after a start."""
    done = False

    async def change(uow: UnitOfWork, row: Instance) -> None:
        nonlocal done
        if row.recovery_phase not in (Phase.MIGRATE_SENT, Phase.MIGRATING):
            return
        job_id = row.migration_job_id
        apply_snapshot(row, snapshot, detailed=True)
        now = uow.recorder.clock.now()
        _recovered(row, outcome("migrate", "migrated", now, jobId=job_id, region=row.region))
        row.recovery_phase = None
        status = status_for_upstream(snapshot.status) or Status.STARTING
        data = {"mode": "migrate", "jobId": job_id, "region": row.region}
        await change_status(uow.recorder, row, status, event_type=EventType.MIGRATED, data=data)
        done = True

    await update_instance(ctx, instance_id, change)
    return done


async def begin_recreate(ctx: AppContext, instance_id: str, reason: str | None) -> Instance | None:
    """``recreating`` + ``instance.migrating`` (``reason``: why migrate was given up).

    The reclaimed upstream id is kept in ``reclaimed_novita_id`` until it is deleted; while an
    older one is still to be deleted, no new recreate starts. Returns the row, or None.
    """

    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.recovery_phase not in _RECREATE_FROM or row.status in _GONE:
            return
        if row.reclaimed_novita_id not in (None, row.novita_instance_id):
            return
        row.recovery_phase = Phase.RECREATING
        row.recovery_started_at = uow.recorder.clock.now()
        row.reclaimed_novita_id = row.novita_instance_id
        row.create_sent_at, row.create_attempts, row.migration_job_id = None, 0, None
        data: dict[str, Any] = {"mode": "recreate", "novitaInstanceId": row.novita_instance_id}
        if reason:
            data["fallbackReason"] = reason
        await change_status(
            uow.recorder, row, Status.MIGRATING, event_type=EventType.MIGRATING, data=data
        )

    row = await update_instance(ctx, instance_id, change)
    return row if row is not None and row.recovery_phase == Phase.RECREATING else None


def _forget_upstream_details(row: Instance, new_id: str, now: Any) -> None:
    """What described the reclaimed instance does not describe the new one."""
    row.novita_instance_id = new_id
    row.upstream_status = "toCreate"
    row.spot_status, row.spot_reclaim_time, row.spot_notice_sent = None, None, False
    row.port_mappings, row.connection = [], {}
    row.next_sync_at = now


async def recreated(ctx: AppContext, instance_id: str, new_id: str) -> bool:
    """Record the new upstream instance: ``instance.migrated``, status ``creating``, and the
    reclaimed one left to delete. False when the row no longer wants it (deleted meanwhile)."""
    wanted = False

    async def change(uow: UnitOfWork, row: Instance) -> None:
        nonlocal wanted
        wanted = row.novita_instance_id == new_id
        if row.recovery_phase != Phase.RECREATING or row.status in _GONE:
            return
        old, now = row.reclaimed_novita_id, uow.recorder.clock.now()
        _forget_upstream_details(row, new_id, now)
        record = outcome("recreate", "recreated", now, fromNovitaInstanceId=old, region=row.region)
        _recovered(row, {**record, "novitaInstanceId": new_id})
        row.recovery_phase = Phase.CLEANUP if old else None
        row.lease_owner = row.lease_expires_at = None
        data = {"mode": "recreate", "fromNovitaInstanceId": old, "region": row.region}
        await change_status(
            uow.recorder, row, Status.CREATING, event_type=EventType.MIGRATED, data=data
        )
        wanted = True

    await update_instance(ctx, instance_id, change)
    return wanted


async def abandoned(ctx: AppContext, instance_id: str) -> None:
    """The user deleted the instance during its recovery: stop following it (a reclaimed
    instance still to delete stays in ``cleanup``)."""

    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.status in _GONE and row.recovery_phase not in (None, Phase.CLEANUP):
            row.recovery_phase = None
            row.last_recovery = outcome(row.spot_recovery, "abandoned", uow.recorder.clock.now())

    await update_instance(ctx, instance_id, change)


async def cleaned_up(ctx: AppContext, instance_id: str) -> None:
    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.recovery_phase == Phase.CLEANUP:
            row.recovery_phase, row.reclaimed_novita_id = None, None

    await update_instance(ctx, instance_id, change)


async def recovery_failed(ctx: AppContext, instance_id: str, reason: str) -> bool:
    """``failed`` with the reason; the recovery job retries it later (bounded)."""
    changed = False

    async def change(uow: UnitOfWork, row: Instance) -> None:
        nonlocal changed
        if row.recovery_phase not in (*IN_FLIGHT, *TO_START) or row.status in _GONE:
            return
        row.recovery_phase = Phase.FAILED
        row.recovery_attempts += 1
        now = uow.recorder.clock.now()
        row.last_recovery = outcome(
            row.spot_recovery, "failed", now, reason=reason, attempts=row.recovery_attempts
        )
        data = {"reason": "spot_recovery", "spotRecovery": row.spot_recovery}
        await change_status(
            uow.recorder, row, Status.FAILED, data=data, error=f"Spot recovery failed: {reason}"
        )
        changed = True

    await update_instance(ctx, instance_id, change)
    return changed


async def settle_unstartable(ctx: AppContext, instance_id: str, result: str, reason: str) -> None:
    """A recovery that will not start (turned off, or the instance moved on): no phase, the
    outcome recorded, and ``lastError`` saying why when recovery was turned off."""

    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.recovery_phase not in TO_START:
            return
        row.recovery_phase = None
        row.last_recovery = outcome(row.spot_recovery, result, uow.recorder.clock.now())
        if result == "disabled":
            row.last_error = f"Novita reclaimed the spot instance; {reason}"
        row.updated_at = uow.recorder.clock.now()

    await update_instance(ctx, instance_id, change)


async def note_dry_run(ctx: AppContext, instance_id: str) -> None:
    async def change(uow: UnitOfWork, row: Instance) -> None:
        if row.recovery_phase in TO_START:
            now = uow.recorder.clock.now()
            row.last_recovery = outcome(row.spot_recovery, "dry_run", now, wouldRun=True)
            row.updated_at = now

    await update_instance(ctx, instance_id, change)
