"""``POST /api/instances/sync``: reconcile with upstream now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import StrictBool

from novita_gpu.core.responses import FastJSONResponse as JSONResponse
from novita_gpu.deps import ContextDep
from novita_gpu.instances.schemas import Body as JsonBody
from novita_gpu.reconciler.manual_sync import sync_now

router = APIRouter(prefix="/api/instances", tags=["instances"])


class SyncIn(JsonBody):
    """``POST /api/instances/sync``: ``dryRun`` reports what would change, writing nothing."""

    dry_run: StrictBool = False


@router.post("/sync", response_model=None)
async def sync(ctx: ContextDep, body: Annotated[SyncIn | None, Body()] = None) -> JSONResponse:
    """One status-sync pass now: what changed (``dryRun``: what would change, nothing written)."""
    return JSONResponse(await sync_now(ctx, dry_run=body.dry_run if body else False))
