"""``/api/instances/migration/*``: spot recovery status and manual runs (the original service's
routes). Declared before ``/api/instances/{instanceId}`` so those paths are never taken as ids."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body

from novita_gpu.context import AppContext
from novita_gpu.core.responses import FastJSONResponse as JSONResponse
from novita_gpu.deps import ContextDep
from novita_gpu.spot.recovery import run_recovery
from novita_gpu.spot.schemas import (
    CheckFailedIn,
    RecoveryRunOut,
    RecoveryStartedOut,
    SchedulerStatusOut,
    TriggeredOut,
)
from novita_gpu.spot.status import scheduler_status

router = APIRouter(prefix="/api/instances/migration", tags=["spot recovery"])


def _owner() -> str:
    return f"api:{uuid.uuid4().hex}"


async def _run_in_background(ctx: AppContext) -> None:
    await run_recovery(ctx, _owner())


@router.post(
    "/check-failed",
    response_model=None,
    responses={
        200: {"model": RecoveryRunOut},
        202: {"model": RecoveryStartedOut, "description": "The pass was started"},
    },
)
async def check_failed(
    ctx: ContextDep,
    background: BackgroundTasks,
    body: Annotated[CheckFailedIn | None, Body()] = None,
) -> JSONResponse:
    """Run the recovery pass now: reclaimed instances waiting for recovery, and failed
    recoveries (retried a few times). ``immediate: true`` waits and answers with the result."""
    if body is not None and body.immediate:
        report = await run_recovery(ctx, _owner())
        return JSONResponse(report.as_json())
    background.add_task(_run_in_background, ctx)
    return JSONResponse({"message": "Recovery check started", "immediate": False}, 202)


@router.get(
    "/scheduler/status", response_model=None, responses={200: {"model": SchedulerStatusOut}}
)
async def status(ctx: ContextDep) -> JSONResponse:
    """Whether recovery is on, its cadence, its last run, and recoveries now and so far."""
    return JSONResponse(await scheduler_status(ctx))


@router.post(
    "/scheduler/trigger",
    status_code=202,
    response_model=None,
    responses={202: {"model": TriggeredOut, "description": "The pass was started"}},
)
async def trigger(ctx: ContextDep, background: BackgroundTasks) -> JSONResponse:
    """Start a recovery pass now, without waiting for ``MIGRATION_INTERVAL_MINUTES``."""
    background.add_task(_run_in_background, ctx)
    return JSONResponse({"triggered": True, "message": "Recovery pass started"}, 202)
