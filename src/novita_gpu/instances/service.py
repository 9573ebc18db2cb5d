"""The instance service: lookups, listings, heartbeats, adoption and bulk stop.

Creation lives in :mod:`.creation` and the lifecycle commands in :mod:`.actions`; this module
resolves references (local id, Novita id or name) and serves the read side from local state.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, cast

from novita_gpu.context import AppContext
from novita_gpu.core.errors import (
    InstanceAlreadyManaged,
    InstanceNotFound,
    NameTaken,
    ServiceError,
    ValidationFailed,
)
from novita_gpu.core.ids import new_instance_id
from novita_gpu.db.models import Instance, InstanceEvent
from novita_gpu.events.repository import EventRepository
from novita_gpu.events.types import EventType
from novita_gpu.instances.actions import NO_OPTIONS, ActionOptions, ActionOutcome, InstanceActions
from novita_gpu.instances.repository import (
    Cursor,
    InstanceRepository,
    ListFilter,
    count_query,
    view_by_reference_query,
    view_page_query,
)
from novita_gpu.instances.schemas import ActionIn, AdoptIn, StartIn
from novita_gpu.instances.settings import instance_settings
from novita_gpu.instances.snapshot import apply_snapshot
from novita_gpu.instances.states import STOPPABLE, Status, fold_upstream_status
from novita_gpu.instances.uow import write_unit
from novita_gpu.instances.views import InstanceRecord, instance_view, iso
from novita_gpu.upstream import UpstreamError, UpstreamInstance, UpstreamNotFound, region_code
from novita_gpu.upstream.api_errors import upstream_error_to_service_error

CLOCK_SKEW = timedelta(minutes=1)
STOP_ALL_CONCURRENCY = 8


def _parse_time(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed.for_field(field, "must be an ISO-8601 timestamp") from None
    else:
        raise ValidationFailed.for_field(field, "must be an ISO-8601 timestamp")
    if parsed.tzinfo is None:
        raise ValidationFailed.for_field(field, "must include a timezone (e.g. Z)")
    return parsed


class InstanceService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.actions = InstanceActions(ctx)

    # lookups

    async def get(self, reference: str) -> Instance:
        """By local id or Novita id; raises 404 ``INSTANCE_NOT_FOUND``."""
        async with self.ctx.db.read() as session:
            instance = await InstanceRepository(session).get_by_reference(reference)
        if instance is None:
            raise InstanceNotFound(f"No instance {reference!r}", details={"instanceId": reference})
        return instance

    async def get_by_name(self, name: str) -> Instance:
        async with self.ctx.db.read() as session:
            instance = await InstanceRepository(session).get_live_by_name(name)
        if instance is None:
            raise InstanceNotFound(f"No instance named {name!r}", details={"instanceName": name})
        return instance

    async def ssh_password(self, instance: InstanceRecord) -> str | None:
        """The current SSH password, fetched live (it rotates on every start; never stored)."""
        if instance.novita_instance_id is None:
            return None
        try:
            snapshot = await self.ctx.upstream.get_instance(instance.novita_instance_id)
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc
        password = snapshot.ssh_password
        return password.get_secret_value() if password else None

    # listings

    async def record(self, reference: str) -> InstanceRecord:
        """The view row of an instance (fast read path); raises 404 ``INSTANCE_NOT_FOUND``."""
        rows = await self.ctx.db.fetch(view_by_reference_query(reference))
        if not rows:
            raise InstanceNotFound(f"No instance {reference!r}", details={"instanceId": reference})
        return cast(InstanceRecord, rows[0])

    async def list_page(
        self, filters: ListFilter, cursor_token: str | None, limit: int
    ) -> tuple[list[InstanceRecord], int, str | None]:
        """One page of view rows, the total matching, and the cursor of the next page."""
        cursor = Cursor.decode(cursor_token) if cursor_token else None
        if cursor_token and cursor is None:
            raise ValidationFailed.for_field("cursor", "is not a cursor this server issued")
        rows, counted = await asyncio.gather(
            self.ctx.db.fetch(view_page_query(filters, cursor, limit + 1)),
            self.ctx.db.fetch(count_query(filters)),
        )
        items = [cast(InstanceRecord, row) for row in rows]
        next_cursor = None
        if len(items) > limit:
            items = items[:limit]
            next_cursor = Cursor(items[-1].created_at, items[-1].id).encode()
        return items, int(counted[0][0]), next_cursor

    async def comprehensive(self) -> list[dict[str, Any]]:
        """Managed instances and upstream-only ones, merged. Reads only; changes nothing."""
        try:
            upstream = await self.ctx.upstream.list_all_instances()
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc
        async with self.ctx.db.read() as session:
            managed = list(await InstanceRepository(session).page(ListFilter(), None, 10_000))
        now = self.ctx.clock.now()
        by_novita_id = {item.id: item for item in upstream}
        merged = [
            self._managed_view(row, by_novita_id.get(row.novita_instance_id or ""), now)
            for row in managed
        ]
        known = {row.novita_instance_id for row in managed}
        merged += [upstream_only_view(item) for item in upstream if item.id not in known]
        return merged

    def _managed_view(
        self, row: Instance, live: UpstreamInstance | None, now: datetime
    ) -> dict[str, Any]:
        view = instance_view(row, now)
        if live is not None:
            view["upstreamStatus"] = live.status
        return view

    async def events(self, reference: str) -> list[dict[str, Any]]:
        instance = await self.get(reference)
        async with self.ctx.db.read() as session:
            events = await EventRepository(session).for_instance(instance.id)
        return [event_view(event) for event in events]

    # heartbeat

    async def touch(self, reference: str, last_used_at: Any, *, by_name: bool = False) -> Instance:
        """Record a heartbeat; 404 for an unknown instance, then 400 if ``last_used_at`` is in
        the future or before the instance existed."""
        target = await (self.get_by_name(reference) if by_name else self.get(reference))
        now = self.ctx.clock.now()
        when = now if last_used_at is None else _parse_time(last_used_at, "lastUsedAt")
        if when > now + CLOCK_SKEW:
            raise ValidationFailed.for_field("lastUsedAt", "must not be in the future")
        if when < target.created_at - CLOCK_SKEW:
            raise ValidationFailed.for_field(
                "lastUsedAt", "must not be before the instance was created"
            )
        async with write_unit(self.ctx) as uow:
            instance = await uow.instances.get(target.id)
            assert instance is not None
            instance.last_used_at = max(when, instance.last_used_at or when)
            instance.updated_at = now
        return instance

    # adoption

    async def adopt(self, body: AdoptIn) -> Instance:
        """Take an upstream-only instance under management (201); 409 if already managed."""
        snapshot = await self._upstream_instance(body.novita_instance_id)
        name = body.name or snapshot.name
        async with write_unit(self.ctx) as uow:
            if await uow.instances.get_by_reference(snapshot.id):
                raise InstanceAlreadyManaged(details={"novitaInstanceId": snapshot.id})
            if await uow.instances.get_live_by_name(name):
                raise NameTaken(
                    f"An instance named {name!r} already exists", details={"name": name}
                )
            instance = self._adopted_row(body, snapshot, name)
            uow.instances.add(instance)
            await uow.recorder.record(instance, EventType.CREATED, {"adopted": True})
        return instance

    async def _upstream_instance(self, novita_id: str) -> UpstreamInstance:
        try:
            return await self.ctx.upstream.get_instance(novita_id)
        except UpstreamNotFound:
            raise InstanceNotFound(
                f"No Novita instance {novita_id!r}", details={"novitaInstanceId": novita_id}
            ) from None
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc

    def _adopted_row(self, body: AdoptIn, snapshot: UpstreamInstance, name: str) -> Instance:
        now = self.ctx.clock.now()
        status = fold_upstream_status(Status.CREATING, snapshot.status)
        instance = Instance(
            id=new_instance_id(),
            name=name,
            status=status.value,
            source="adopted",
            novita_instance_id=snapshot.id,
            product_id=snapshot.product_id or None,
            product_name=snapshot.product_name or "unknown",
            gpu_num=snapshot.gpu_num or 1,
            rootfs_size=snapshot.rootfs_size or 60,
            billing_mode=snapshot.billing_mode or "onDemand",
            image_url=snapshot.image_url or None,
            price_units=snapshot.instance_price,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
            health_check_config=body.health_check.model_dump(by_alias=True, exclude_none=True)
            if body.health_check
            else {},
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            next_sync_at=now,
            running_since=now if status == Status.RUNNING else None,
            runtime_seconds=0.0,
            create_attempts=0,
            **instance_settings(self.ctx.settings, body),
        )
        apply_snapshot(instance, snapshot, detailed=True)
        return instance

    # bulk

    async def stop_all(self, dry_run: bool) -> list[dict[str, Any]]:
        """Stop every managed instance that is alive; one result per instance."""
        async with self.ctx.db.read() as session:
            targets = list(await InstanceRepository(session).live_in_statuses(STOPPABLE))
        if dry_run:
            return [
                {"instanceId": t.id, "name": t.name, "status": t.status, "action": "would stop"}
                for t in targets
            ]
        limit = asyncio.Semaphore(STOP_ALL_CONCURRENCY)

        async def stop_one(target: Instance) -> dict[str, Any]:
            async with limit:
                try:
                    outcome = await self.actions.stop(target.id)
                except ServiceError as exc:
                    return {
                        "instanceId": target.id,
                        "name": target.name,
                        "error": exc.message,
                        "code": exc.code,
                    }
                return {
                    "instanceId": target.id,
                    "name": target.name,
                    "status": outcome.instance.status,
                }

        return list(await asyncio.gather(*(stop_one(t) for t in targets)))

    # actions by reference

    async def start(
        self, reference: str, body: StartIn | None = None, *, by_name: bool = False
    ) -> ActionOutcome:
        target = await (self.get_by_name(reference) if by_name else self.get(reference))
        return await self.actions.start(target.id, _options(body))

    async def stop(
        self, reference: str, body: ActionIn | None = None, *, by_name: bool = False
    ) -> ActionOutcome:
        target = await (self.get_by_name(reference) if by_name else self.get(reference))
        return await self.actions.stop(target.id, options=_options(body))

    async def delete(
        self, reference: str, body: ActionIn | None = None, *, by_name: bool = False
    ) -> ActionOutcome:
        target = await (self.get_by_name(reference) if by_name else self.get(reference))
        return await self.actions.delete(target.id, options=_options(body))


def _options(body: ActionIn | None) -> ActionOptions:
    if body is None:
        return NO_OPTIONS
    webhook = str(body.webhook_url) if body.webhook_url else None
    health = body.health_check_overrides() if isinstance(body, StartIn) else {}
    return ActionOptions(webhook_url=webhook, health_check=health)


def upstream_only_view(item: UpstreamInstance) -> dict[str, Any]:
    """An unmanaged upstream instance in the shape of the instance object."""
    status = fold_upstream_status(Status.CREATING, item.status)
    return {
        "id": None,
        "name": item.name,
        "status": status.value,
        "upstreamStatus": item.status,
        "novitaInstanceId": item.id,
        "productId": item.product_id or None,
        "productName": item.product_name or None,
        "region": region_code(item.cluster_name) if item.cluster_name else None,
        "clusterId": item.cluster_id or None,
        "gpuNum": item.gpu_num,
        "rootfsSize": item.rootfs_size,
        "billingMode": item.billing_mode,
        "imageUrl": item.image_url or None,
        "portMappings": [
            {"port": m.port, "type": m.type, "endpoint": m.endpoint} for m in item.port_mappings
        ],
        "createdAt": item.created_at.isoformat().replace("+00:00", "Z")
        if item.created_at
        else None,
        "source": "upstream",
    }


def event_view(event: InstanceEvent) -> dict[str, Any]:
    """An event as ``GET /api/instances/{id}/events`` lists it."""
    return {
        "id": event.id,
        "type": event.type,
        "instanceId": event.instance_id,
        "status": event.status,
        "timestamp": iso(event.created_at),
        "data": event.data,
    }
