"""HTTP routes of the instance API. Handlers are thin: parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query

from novita_gpu.core.errors import (
    IdempotencyKeyReused,
    InstanceAlreadyManaged,
    InstanceNotFound,
    InstanceNotStartable,
    InstanceNotStoppable,
    InsufficientResource,
    NameTaken,
    NoAvailableProduct,
    OperationInProgress,
    ProductNotFound,
    ServiceError,
    SpendLimitExceeded,
    TemplateNotFound,
    ValidationFailed,
)
from novita_gpu.core.openapi import UPSTREAM_ERRORS, error_responses
from novita_gpu.core.responses import FastJSONResponse as JSONResponse
from novita_gpu.deps import ContextDep
from novita_gpu.instances.actions import ActionOutcome
from novita_gpu.instances.creation import CreateFlow
from novita_gpu.instances.idempotency import check_key
from novita_gpu.instances.repository import ListFilter
from novita_gpu.instances.schemas import (
    NAME_PATTERN,
    ActionByNameIn,
    ActionIn,
    ActionOut,
    AdoptIn,
    ComprehensiveOut,
    CreateInstanceIn,
    CreateInstanceOut,
    EventListOut,
    InstanceListOut,
    InstanceOut,
    LastUsedByNameIn,
    LastUsedIn,
    StartByNameIn,
    StartIn,
    StopAllIn,
    StopAllOut,
    TouchOut,
)
from novita_gpu.instances.service import InstanceService
from novita_gpu.instances.states import Status
from novita_gpu.instances.views import instance_view, iso
from novita_gpu.instances.waiting import wait_for_status

router = APIRouter(prefix="/api/instances", tags=["instances"])

_START_ERRORS: tuple[type[ServiceError], ...] = (
    InstanceNotStartable,
    OperationInProgress,
    SpendLimitExceeded,
    InsufficientResource,
    *UPSTREAM_ERRORS,
)
_STOP_ERRORS: tuple[type[ServiceError], ...] = (
    InstanceNotStoppable,
    OperationInProgress,
    *UPSTREAM_ERRORS,
)
_DELETE_ERRORS: tuple[type[ServiceError], ...] = (OperationInProgress, *UPSTREAM_ERRORS)

MAX_PAGE = 500


def _action(outcome: ActionOutcome, now: Any) -> JSONResponse:
    body = {
        "instanceId": outcome.instance.id,
        "status": outcome.instance.status,
        "message": outcome.message,
        "instance": instance_view(outcome.instance, now),
    }
    return JSONResponse(body, status_code=202)


def _statuses(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    values = tuple(part.strip() for part in raw.split(",") if part.strip())
    known = {status.value for status in Status}
    unknown = [value for value in values if value not in known]
    if unknown:
        raise ValidationFailed.for_field("status", f"unknown status {', '.join(unknown)}")
    return values


@router.post(
    "",
    status_code=201,
    response_model=CreateInstanceOut,
    summary="Create an instance",
    responses=error_responses(
        ProductNotFound,
        TemplateNotFound,
        NameTaken,
        IdempotencyKeyReused,
        OperationInProgress,
        NoAvailableProduct,
        InsufficientResource,
        SpendLimitExceeded,
        *UPSTREAM_ERRORS,
    ),
)
async def create_instance(
    ctx: ContextDep,
    body: CreateInstanceIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            pattern=r"^[!-~]([ -~]*[!-~])?$",
            description="Repeat a create safely: same key and body, same answer (24 h)",
        ),
    ] = None,
) -> JSONResponse:
    """Create an instance from a product name and a template, in the cheapest region that has
    the product available (``region``/``regions`` first), then follow it until it is ready.

    Answers 201 with ``status: creating`` as soon as Novita accepted it. A repeat with the same
    ``Idempotency-Key`` and body returns the first response instead of creating another one.
    """
    key = check_key(idempotency_key) if idempotency_key is not None else None
    result = await CreateFlow(ctx).run(body, key)
    return JSONResponse(result.body, status_code=result.status_code)


@router.get("", response_model=InstanceListOut, summary="List managed instances")
async def list_instances(
    ctx: ContextDep,
    status: Annotated[
        str | None, Query(description="Comma-separated statuses, e.g. ready,running")
    ] = None,
    name: Annotated[
        str | None, Query(max_length=101, description="Exact name, or a prefix ending in *")
    ] = None,
    region: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JSONResponse:
    """Managed instances, newest first, filtered and paged (``nextCursor``).

    Reads local state only (no upstream call). ``?name=`` matches the name exactly (deleted
    instances included); ``GET /api/instances/by-name/{name}`` returns the live one.
    """
    filters = ListFilter(statuses=_statuses(status), name=name, region=region)
    items, total, next_cursor = await InstanceService(ctx).list_page(filters, cursor, limit)
    now = ctx.clock.now()
    return JSONResponse(
        {
            "instances": [instance_view(i, now) for i in items],
            "total": total,
            "nextCursor": next_cursor,
        }
    )


@router.get(
    "/comprehensive",
    response_model=ComprehensiveOut,
    summary="Managed and upstream-only instances",
    responses=error_responses(*UPSTREAM_ERRORS),
)
async def comprehensive(ctx: ContextDep) -> JSONResponse:
    """Managed instances plus those Novita has that are not managed here (``source:
    upstream``), with Novita's current status. Changes nothing."""
    merged = await InstanceService(ctx).comprehensive()
    managed = sum(1 for item in merged if item["source"] != "upstream")
    return JSONResponse(
        {
            "instances": merged,
            "total": len(merged),
            "managed": managed,
            "upstreamOnly": len(merged) - managed,
        }
    )


@router.post(
    "/start",
    status_code=202,
    response_model=ActionOut,
    summary="Start an instance by name",
    responses=error_responses(InstanceNotFound, *_START_ERRORS),
)
async def start_by_name(ctx: ContextDep, body: StartByNameIn) -> JSONResponse:
    """Start the live instance named ``instanceName``; same rules and body as by id."""
    service = InstanceService(ctx)
    return _action(await service.start(body.instance_name, body, by_name=True), ctx.clock.now())


@router.post(
    "/stop",
    status_code=202,
    response_model=ActionOut,
    summary="Stop an instance by name",
    responses=error_responses(InstanceNotFound, *_STOP_ERRORS),
)
async def stop_by_name(ctx: ContextDep, body: ActionByNameIn) -> JSONResponse:
    """Stop the live instance named ``instanceName``; same rules and body as by id."""
    service = InstanceService(ctx)
    return _action(await service.stop(body.instance_name, body, by_name=True), ctx.clock.now())


@router.post(
    "/delete",
    status_code=202,
    response_model=ActionOut,
    summary="Delete an instance by name",
    responses=error_responses(InstanceNotFound, *_DELETE_ERRORS),
)
async def delete_by_name(ctx: ContextDep, body: ActionByNameIn) -> JSONResponse:
    """Delete the live instance named ``instanceName``; same rules and body as by id."""
    service = InstanceService(ctx)
    return _action(await service.delete(body.instance_name, body, by_name=True), ctx.clock.now())


@router.put(
    "/last-used",
    response_model=TouchOut,
    summary="Heartbeat by name",
    responses=error_responses(InstanceNotFound),
)
async def touch_by_name(ctx: ContextDep, body: LastUsedByNameIn) -> JSONResponse:
    """Record that the live instance named ``instanceName`` is in use (auto-stop heartbeat)."""
    instance = await InstanceService(ctx).touch(body.instance_name, body.last_used_at, by_name=True)
    return _touched(instance, ctx.clock.now())


def _touched(instance: Any, now: Any) -> JSONResponse:
    return JSONResponse(
        {
            "instanceId": instance.id,
            "lastUsedAt": iso(instance.last_used_at),
            "message": "Last used time updated",
            "instance": instance_view(instance, now),
        }
    )


@router.post(
    "/adopt",
    status_code=201,
    response_model=InstanceOut,
    summary="Adopt an upstream instance",
    responses=error_responses(
        InstanceNotFound, NameTaken, InstanceAlreadyManaged, *UPSTREAM_ERRORS
    ),
)
async def adopt(ctx: ContextDep, body: AdoptIn) -> JSONResponse:
    """Manage an instance that exists on Novita but was not created here."""
    instance = await InstanceService(ctx).adopt(body)
    return JSONResponse(instance_view(instance, ctx.clock.now()), status_code=201)


@router.post("/stop-all", status_code=202, response_model=StopAllOut, summary="Stop every instance")
async def stop_all(
    ctx: ContextDep, body: Annotated[StopAllIn | None, Body()] = None
) -> JSONResponse:
    """Stop every managed instance that is alive; one result per instance (a failed stop is
    reported in its result, not as an error). ``dryRun`` only lists what would be stopped."""
    dry_run = body.dry_run if body else False
    results = await InstanceService(ctx).stop_all(dry_run)
    failed = sum(1 for result in results if "error" in result)
    summary = {
        "dryRun": dry_run,
        "total": len(results),
        "stopped": len(results) - failed,
        "failed": failed,
    }
    return JSONResponse({**summary, "results": results}, status_code=202)


IncludeSecrets = Annotated[bool, Query(alias="includeSecrets")]
WaitFor = Annotated[Status | None, Query(alias="waitFor")]
WaitTimeout = Annotated[float, Query(ge=0, le=600)]


@router.get(
    "/by-name/{name}",
    response_model=InstanceOut,
    summary="Get an instance by name",
    responses=error_responses(InstanceNotFound, *UPSTREAM_ERRORS),
)
async def get_instance_by_name(
    ctx: ContextDep,
    name: Annotated[str, Path(pattern=NAME_PATTERN)],
    include_secrets: IncludeSecrets = False,
    wait_for: WaitFor = None,
    timeout: WaitTimeout = 60,
) -> JSONResponse:
    """The live (not deleted) instance with this name; same options as by id."""
    found = await InstanceService(ctx).get_by_name(name)
    return await get_instance(ctx, found.id, include_secrets, wait_for, timeout)


@router.get(
    "/{instance_id}",
    response_model=InstanceOut,
    summary="Get an instance",
    responses=error_responses(InstanceNotFound, *UPSTREAM_ERRORS),
)
async def get_instance(
    ctx: ContextDep,
    instance_id: str,
    include_secrets: IncludeSecrets = False,
    wait_for: WaitFor = None,
    timeout: WaitTimeout = 60,
) -> JSONResponse:
    """One instance by local or Novita id, from local state.

    ``waitFor`` long-polls until the instance has that status, gives up (``failed`` and the
    like), or ``timeout`` seconds pass; the outcome is in ``waitResult`` and the
    ``X-Wait-Result`` header. ``includeSecrets=true`` adds the SSH password, fetched live.
    """
    service = InstanceService(ctx)
    instance = await service.record(instance_id)
    headers: dict[str, str] = {}
    if wait_for is not None:
        instance, outcome = await wait_for_status(ctx, instance, wait_for, timeout)
        headers["X-Wait-Result"] = outcome
    password = await service.ssh_password(instance) if include_secrets else None
    view = instance_view(instance, ctx.clock.now(), ssh_password=password)
    if wait_for is not None:
        view["waitResult"] = headers["X-Wait-Result"]
    return JSONResponse(view, headers=headers)


@router.post(
    "/{instance_id}/start",
    status_code=202,
    response_model=ActionOut,
    summary="Start an instance",
    responses=error_responses(InstanceNotFound, *_START_ERRORS),
)
async def start(
    ctx: ContextDep, instance_id: str, body: Annotated[StartIn | None, Body()] = None
) -> JSONResponse:
    """Start a stopped (or failed) instance and follow it until ready.

    A start of an instance that is already starting or ready is accepted and changes nothing.
    The optional body sets this start's readiness check and where its events go.
    """
    return _action(await InstanceService(ctx).start(instance_id, body), ctx.clock.now())


@router.post(
    "/{instance_id}/stop",
    status_code=202,
    response_model=ActionOut,
    summary="Stop an instance",
    responses=error_responses(InstanceNotFound, *_STOP_ERRORS),
)
async def stop(
    ctx: ContextDep, instance_id: str, body: Annotated[ActionIn | None, Body()] = None
) -> JSONResponse:
    """Stop an instance that is alive (stopping a stopped one is a no-op)."""
    return _action(await InstanceService(ctx).stop(instance_id, body), ctx.clock.now())


@router.delete(
    "/{instance_id}",
    status_code=202,
    response_model=ActionOut,
    summary="Delete an instance",
    responses=error_responses(InstanceNotFound, *_DELETE_ERRORS),
)
async def delete(
    ctx: ContextDep, instance_id: str, body: Annotated[ActionIn | None, Body()] = None
) -> JSONResponse:
    """Delete upstream and keep a tombstone for DELETED_RETENTION_DAYS."""
    return _action(await InstanceService(ctx).delete(instance_id, body), ctx.clock.now())


@router.put(
    "/{instance_id}/last-used",
    response_model=TouchOut,
    summary="Heartbeat",
    responses=error_responses(InstanceNotFound),
)
async def touch(
    ctx: ContextDep, instance_id: str, body: Annotated[LastUsedIn | None, Body()] = None
) -> JSONResponse:
    """Record that the instance is in use, for auto-stop; ``lastUsedAt`` defaults to now and
    may be neither in the future nor before the instance was created (400)."""
    instance = await InstanceService(ctx).touch(instance_id, body.last_used_at if body else None)
    return _touched(instance, ctx.clock.now())


@router.get(
    "/{instance_id}/events",
    response_model=EventListOut,
    summary="An instance's event history",
    responses=error_responses(InstanceNotFound),
)
async def events(ctx: ContextDep, instance_id: str) -> JSONResponse:
    """Every event of the instance, oldest first (the same events webhooks carry)."""
    items = await InstanceService(ctx).events(instance_id)
    return JSONResponse({"events": items, "total": len(items)})
