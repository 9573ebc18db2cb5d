"""Running spot recovery: the recovery pass (start or retry recoveries, at
``MIGRATION_INTERVAL_MINUTES``) and the follow-up pass (advance recoveries in flight).

Both claim their instances with row leases, so with several replicas each instance is handled by
one of them at a time, and each reclaim gets one recovery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from novita_gpu.context import AppContext
from novita_gpu.core.errors import ServiceError
from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status
from novita_gpu.spot import record, steps
from novita_gpu.spot.phases import IN_FLIGHT, MAX_RECOVERY_ATTEMPTS, TO_START, Phase
from novita_gpu.spot.repository import SpotRepository
from novita_gpu.upstream import UpstreamError

_log = structlog.get_logger("spot")
BATCH = 50
# Where each phase that waits for the recovery job must be for it to start.
_WAITS_IN = {Phase.PENDING: Status.STOPPED.value, Phase.FAILED: Status.FAILED.value}


@dataclass
class RecoveryReport:
    """What one recovery pass found and did (``dryRun``: what it would have done)."""

    enabled: bool
    dry_run: bool
    checked: int = 0
    started: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        key = "wouldStart" if self.dry_run else "started"
        return {
            "enabled": self.enabled,
            "dryRun": self.dry_run,
            "checked": self.checked,
            key: self.started,
            "skipped": self.skipped,
            "errors": self.errors,
        }


def _hold(ctx: AppContext) -> timedelta:
    return timedelta(seconds=ctx.settings.upstream_timeout_seconds * 4 + 30)


async def _claimed(ctx: AppContext, phases: tuple[Phase, ...], owner: str) -> list[Instance]:
    async with ctx.db.read() as session:
        if not await SpotRepository(session).any_in(phases):
            return []
    async with ctx.db.write() as session, session.begin():
        ids = await SpotRepository(session).claim(
            phases, owner=owner, now=ctx.clock.now(), hold=_hold(ctx), limit=BATCH
        )
    async with ctx.db.read() as session:
        return list(await InstanceRepository(session).get_many(ids))


async def _release(ctx: AppContext, rows: list[Instance], owner: str) -> None:
    async with ctx.db.write() as session, session.begin():
        await InstanceRepository(session).release([row.id for row in rows], owner)


async def run_recovery(ctx: AppContext, owner: str) -> RecoveryReport:
    """Start the recovery of every reclaimed instance waiting for one, and retry failed ones
    (at most :data:`MAX_RECOVERY_ATTEMPTS` times). Honours ``MIGRATION_ENABLED`` and
    ``MIGRATION_DRY_RUN``."""
    settings = ctx.settings
    report = RecoveryReport(settings.migration_enabled, settings.migration_dry_run)
    rows = await _claimed(ctx, TO_START, owner)
    try:
        for row in rows:
            report.checked += 1
            await _consider(ctx, row, owner, report)
    finally:
        await _release(ctx, rows, owner)
    return report


async def _consider(ctx: AppContext, row: Instance, owner: str, report: RecoveryReport) -> None:
    line = {"instanceId": row.id, "name": row.name, "mode": row.spot_recovery}
    phase = Phase(row.recovery_phase or Phase.PENDING)
    if row.status != _WAITS_IN.get(phase):
        await record.settle_unstartable(ctx, row.id, "abandoned", "the instance moved on")
        report.skipped.append({**line, "reason": f"instance is {row.status}"})
    elif not report.enabled:
        reason = "spot recovery is turned off (MIGRATION_ENABLED=false)"
        await record.settle_unstartable(ctx, row.id, "disabled", reason)
        report.skipped.append({**line, "reason": reason})
    elif row.recovery_attempts >= MAX_RECOVERY_ATTEMPTS:
        report.skipped.append({**line, "reason": f"gave up after {row.recovery_attempts} tries"})
    elif report.dry_run:
        await record.note_dry_run(ctx, row.id)
        report.started.append(line)
    else:
        await _start(ctx, row, owner, line, report)


async def _start(
    ctx: AppContext, row: Instance, owner: str, line: dict[str, Any], report: RecoveryReport
) -> None:
    try:
        await steps.start(ctx, row, owner)
    except (UpstreamError, ServiceError) as exc:
        _log.info("spot recovery postponed", instance_id=row.id, error=str(exc))
        report.errors.append({**line, "error": str(exc)})
        return
    report.started.append(line)


async def follow_recoveries(ctx: AppContext, owner: str) -> int:
    """Advance every recovery in flight by one step; returns how many were looked at."""
    rows = await _claimed(ctx, IN_FLIGHT, owner)
    try:
        for row in rows:
            try:
                await steps.advance(ctx, row, owner)
            except (UpstreamError, ServiceError) as exc:
                _log.info("spot recovery step postponed", instance_id=row.id, error=str(exc))
    finally:
        await _release(ctx, rows, owner)
    return len(rows)
