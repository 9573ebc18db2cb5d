"""One auto-stop check: apply the rules of :mod:`.rules` to every managed instance.

A pass reads the watched managed rows, decides locally, then reads upstream once (a paged
listing) and acts only on instances whose upstream status this listing confirms; one that it
cannot confirm is skipped and counted as an error, never acted on. Each action goes through the
normal stop/delete path with ``instance.auto_stopped``/``instance.auto_deleted`` recorded first,
and the rule is asked again on the fresh row just before upstream is called (a heartbeat that
arrived meanwhile wins). One instance's failure is logged, counted and retried next pass; the
pass goes on. A dry run reads the same things and writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from novita_gpu.autostop.rules import WATCHED, Policy, Verdict, confirmed, verdict
from novita_gpu.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.events.types import EventType
from novita_gpu.instances.actions import InstanceActions, Notice
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.views import iso
from novita_gpu.upstream import UpstreamError, UpstreamInstance

_log = structlog.get_logger("autostop")
PAGE_SIZE = 100


@dataclass
class CheckResult:
    """What a check found and did (``lastResult`` in the stats)."""

    checked_at: datetime
    dry_run: bool
    checked: int = 0
    eligible: int = 0
    stopped: int = 0
    deleted: int = 0
    errors: int = 0
    duration_ms: int = 0
    instances: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "checkedAt": iso(self.checked_at),
            "dryRun": self.dry_run,
            "checked": self.checked,
            "eligible": self.eligible,
            "stopped": self.stopped,
            "deleted": self.deleted,
            "errors": self.errors,
            "durationMs": self.duration_ms,
            "instances": self.instances,
        }

    def note(self, row: Instance, decided: Verdict, outcome: str, error: str | None) -> None:
        entry: dict[str, Any] = {
            "instanceId": row.id,
            "name": row.name,
            "action": decided.action,
            "reason": decided.reason,
            "outcome": outcome,
        }
        if error is not None:
            entry["error"] = error
            self.errors += 1
        self.instances.append(entry)


async def run_check(ctx: AppContext, *, dry_run: bool) -> CheckResult:
    """One pass over every managed instance (see the module docstring)."""
    timer = time.perf_counter()
    now = ctx.clock.now()
    policy = Policy.from_settings(ctx.settings)
    async with ctx.db.read() as session:
        rows = [
            row
            for row in await InstanceRepository(session).live_in_statuses(WATCHED)
            if row.novita_instance_id is not None
        ]
    due = [(row, decided) for row in rows if (decided := verdict(row, now, policy)) is not None]
    result = CheckResult(checked_at=now, dry_run=dry_run, checked=len(rows), eligible=len(due))
    if due:
        listing = await _listing(ctx)
        for row, decided in due:
            await _handle(ctx, result, row, decided, listing)
    result.duration_ms = int((time.perf_counter() - timer) * 1000)
    return result


async def _listing(ctx: AppContext) -> dict[str, UpstreamInstance] | None:
    """Upstream's view for this pass, or None when it could not be read."""
    try:
        items = await ctx.upstream.list_all_instances(page_size=PAGE_SIZE)
    except UpstreamError as exc:
        _log.warning("auto-stop could not read upstream; acting on nothing", error=str(exc))
        return None
    return {item.id: item for item in items}


def _unconfirmed(row: Instance, decided: Verdict, listing: dict[str, Any] | None) -> str | None:
    """Why this pass cannot act on ``row`` (None: upstream confirms the state)."""
    if listing is None:
        return "Novita could not be read in this pass"
    snapshot = listing.get(row.novita_instance_id or "")
    if snapshot is None:
        return "instance not found in Novita's listing in this pass"
    if not confirmed(decided.action, snapshot.status):
        return f"Novita reports {snapshot.status}, not the state this rule needs"
    return None


async def _handle(
    ctx: AppContext,
    result: CheckResult,
    row: Instance,
    decided: Verdict,
    listing: dict[str, UpstreamInstance] | None,
) -> None:
    reason = _unconfirmed(row, decided, listing)
    if reason is not None:
        _log.info("auto-stop skipped an unconfirmed instance", instance_id=row.id, why=reason)
        _count(ctx, decided, "unconfirmed")
        result.note(row, decided, "skipped", reason)
        return
    if result.dry_run:
        result.note(row, decided, "planned", None)
        return
    try:
        done = await _act(ctx, row, decided)
    except Exception as exc:  # one instance's failure must not stop the pass
        _log.warning("auto-stop action failed", instance_id=row.id, error=str(exc))
        _count(ctx, decided, "failed")
        result.note(row, decided, "failed", f"{type(exc).__name__}: {exc}")
        return
    _count(ctx, decided, "done" if done else "no_longer_due")
    result.note(row, decided, "done" if done else "no_longer_due", None)
    if done:
        result.stopped += decided.action == "stop"
        result.deleted += decided.action == "delete"


async def _act(ctx: AppContext, row: Instance, decided: Verdict) -> bool:
    """Stop or delete through the normal path; False when the fresh row is no longer due."""
    policy = Policy.from_settings(ctx.settings)

    def still_due(fresh: Instance) -> bool:
        again = verdict(fresh, ctx.clock.now(), policy)
        return again is not None and again.action == decided.action

    actions = InstanceActions(ctx)
    if decided.action == "stop":
        notice = Notice(EventType.AUTO_STOPPED, decided.data, still_due)
        return not (await actions.stop(row.id, notice=notice)).skipped
    notice = Notice(EventType.AUTO_DELETED, decided.data, still_due)
    return not (await actions.delete(row.id, notice=notice)).skipped


def _count(ctx: AppContext, decided: Verdict, outcome: str) -> None:
    ctx.metrics.auto_stop_actions.labels(decided.action, decided.reason, outcome).inc()
