"""``POST /api/instances/sync``: reconcile with upstream now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import Field, StrictBool

from novita_gpu.core.openapi import UPSTREAM_ERRORS, error_responses
from novita_gpu.core.responses import FastJSONResponse as JSONResponse
from novita_gpu.deps import ContextDep
from novita_gpu.instances.schemas import Body as JsonBody
from novita_gpu.instances.schemas import Out
from novita_gpu.reconciler.manual_sync import sync_now

router = APIRouter(prefix="/api/instances", tags=["instances"])


class SyncIn(JsonBody):
    """``POST /api/instances/sync``: ``dryRun`` reports what would change, writing nothing."""

    dry_run: StrictBool = False


class SyncChangeOut(Out):
    """One instance whose status the pass changed (or, in a dry run, would change)."""

    instance_id: str
    name: str
    from_: str = Field(alias="from", description="Status before the pass")
    to: str = Field(description="Status after the pass")
    upstream_status: str | None


class SyncResultOut(Out):
    """What one status-sync pass saw and did."""

    dry_run: bool
    checked: int = Field(description="Managed instances with a Novita id")
    upstream_instances: int = Field(description="Instances Novita listed")
    changed: list[SyncChangeOut]
    missing: list[str] = Field(description="Ids of managed instances Novita did not list")
    duration_ms: int


@router.post(
    "/sync",
    response_model=None,
    summary="Reconcile with Novita now",
    responses={200: {"model": SyncResultOut}, **error_responses(*UPSTREAM_ERRORS)},
)
async def sync(ctx: ContextDep, body: Annotated[SyncIn | None, Body()] = None) -> JSONResponse:
    """One status-sync pass now: what changed (``dryRun``: what would change, nothing written)."""
    return JSONResponse(await sync_now(ctx, dry_run=body.dry_run if body else False))
