"""``/api/instances/auto-stop/*``: the check's status and on-demand runs.

Included before the instance routes, so ``auto-stop`` is never read as an instance id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from novita_gpu.autostop import service
from novita_gpu.autostop.schemas import AutoStopStatsOut, CheckResultOut, TriggerIn
from novita_gpu.core.responses import FastJSONResponse as JSONResponse
from novita_gpu.deps import ContextDep

router = APIRouter(prefix="/api/instances/auto-stop", tags=["auto-stop"])


@router.get("/stats", response_model=None, responses={200: {"model": AutoStopStatsOut}})
async def stats(ctx: ContextDep) -> JSONResponse:
    """Auto-stop settings, the last and next check, the last result, spend and savings."""
    return JSONResponse(await service.stats(ctx))


@router.post("/trigger", response_model=None, responses={200: {"model": CheckResultOut}})
async def trigger(
    ctx: ContextDep, body: Annotated[TriggerIn | None, Body()] = None
) -> JSONResponse:
    """Run a check now. A dry run (the default) changes nothing and reports what it would do."""
    dry_run = True if body is None else body.dry_run
    return JSONResponse(await service.trigger(ctx, dry_run=dry_run))
