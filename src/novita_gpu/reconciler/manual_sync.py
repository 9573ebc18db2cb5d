"""``POST /api/instances/sync``: one status-sync pass now, reporting what changed.

The same fold as the periodic status sync (one paged listing, then only the rows whose view
differs are written); instances missing from the listing are confirmed with one GET each, as
there. A dry run reads upstream and reports what the pass would change, writing nothing.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from novita_gpu.context import AppContext
from novita_gpu.instances.repository import InstanceRepository, SyncRow
from novita_gpu.instances.states import Status, fold_upstream_status
from novita_gpu.instances.uow import update_instance
from novita_gpu.reconciler.jobs.status_sync import (
    MAX_CONFIRMATIONS,
    PAGE_SIZE,
    _confirm_missing,
    needs_update,
    snapshot_folder,
)
from novita_gpu.upstream import UpstreamError, UpstreamInstance
from novita_gpu.upstream.api_errors import upstream_error_to_service_error


def _change(row: SyncRow, status: str, upstream_status: str | None) -> dict[str, Any]:
    return {
        "instanceId": row.id,
        "name": row.name,
        "from": row.status,
        "to": status,
        "upstreamStatus": upstream_status,
    }


async def _fold(
    ctx: AppContext, row: SyncRow, snapshot: UpstreamInstance, dry_run: bool, observed_at: datetime
) -> Any:
    """The change this row gets from ``snapshot`` (None: nothing), applied unless a dry run."""
    if not needs_update(row, snapshot):
        return None
    if dry_run:
        would = fold_upstream_status(Status(row.status), snapshot.status).value
        return _change(row, would, snapshot.status)
    updated = await update_instance(
        ctx, row.id, snapshot_folder(ctx, snapshot, observed_at=observed_at)
    )
    return None if updated is None else _change(row, updated.status, updated.upstream_status)


async def sync_now(ctx: AppContext, *, dry_run: bool) -> dict[str, Any]:
    """Run one pass now; 502/503/504 (typed) when upstream cannot be listed."""
    timer = time.perf_counter()
    observed_at = ctx.clock.now()
    try:
        items = await ctx.upstream.list_all_instances(page_size=PAGE_SIZE)
    except UpstreamError as exc:
        raise upstream_error_to_service_error(exc) from exc
    listing = {item.id: item for item in items}
    async with ctx.db.read() as session:
        rows = await InstanceRepository(session).sync_rows()
    changed: list[dict[str, Any]] = []
    missing: list[str] = []
    for row in rows:
        snapshot = listing.get(row.novita_instance_id)
        if snapshot is None:
            missing.append(row.id)
        elif (change := await _fold(ctx, row, snapshot, dry_run, observed_at)) is not None:
            changed.append(change)
    if not dry_run:
        for instance_id in missing[:MAX_CONFIRMATIONS]:
            await _confirm_missing(ctx, instance_id)
    return {
        "dryRun": dry_run,
        "checked": len(rows),
        "upstreamInstances": len(listing),
        "changed": changed,
        "missing": missing,
        "durationMs": int((time.perf_counter() - timer) * 1000),
    }
