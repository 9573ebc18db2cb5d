"""``POST /api/instances``: validate, choose, write the row, then create upstream.

The order is what keeps paid instances from being lost or doubled:

1. Product, template and spend are resolved first; failures there leave nothing behind.
2. The row (status ``creating``), its ``instance.created`` event and the idempotency claim are
   committed together, the row already marked as being sent to the first offer.
3. Upstream create is attempted per offer (region fallback on "no capacity"); the row records
   ``create_sent_at`` before each send (for the first offer, in step 2).
4. A lost answer is resolved by name; if that is not possible yet, the row stays ``creating``
   without a Novita id and the reconciler finishes the job. A definite refusal marks the row
   ``failed`` and frees its name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from novita_gpu.catalog.service import Offer, OfferQuery, TemplateSpec
from novita_gpu.context import AppContext
from novita_gpu.core.errors import (
    InstanceNotFound,
    InsufficientResource,
    NameTaken,
    ServiceError,
)
from novita_gpu.core.http_errors import error_body
from novita_gpu.core.ids import new_instance_id
from novita_gpu.db.models import Instance
from novita_gpu.events.types import EventType
from novita_gpu.instances.idempotency import IdempotencyRepository, request_fingerprint
from novita_gpu.instances.placement import Placement, lease_hold, offer_fields, place
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.schemas import CreateInstanceIn
from novita_gpu.instances.settings import check_webhook_url, instance_settings
from novita_gpu.instances.spend import ensure_within_spend_limit
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import write_unit
from novita_gpu.instances.views import instance_view, iso, usd
from novita_gpu.upstream import UpstreamInsufficientResource
from novita_gpu.upstream.api_errors import upstream_error_to_service_error

IDEMPOTENCY_SCOPE = "POST /api/instances"
# What we tell clients to expect; the emulator's default world is much quicker.
_TYPICAL_BOOT = timedelta(minutes=5)
_TRANSIENT_STATUSES = frozenset({503, 504})


@dataclass(frozen=True)
class CreateResult:
    status_code: int
    body: dict[str, Any]


def _merged_envs(template: TemplateSpec, body: CreateInstanceIn) -> list[dict[str, str]]:
    merged = {env["key"]: env["value"] for env in template.envs}
    merged.update({env.key: env.value for env in body.envs or []})
    return [{"key": key, "value": value} for key, value in merged.items()]


def _health_config(body: CreateInstanceIn) -> dict[str, Any]:
    """The caller's health-check overrides (server defaults fill the rest when probing)."""
    if body.health_check is None:
        return {}
    return body.health_check.model_dump(by_alias=True, exclude_none=True)


class CreateFlow:
    """One create request (see the module docstring for the order of steps)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.owner = f"create:{uuid.uuid4().hex}"

    async def run(self, body: CreateInstanceIn, idempotency_key: str | None) -> CreateResult:
        await check_webhook_url(self.ctx.settings, body.webhook_url)
        fingerprint = request_fingerprint(body.model_dump(mode="json", by_alias=True))
        if idempotency_key:
            replay = await self._replay(idempotency_key, fingerprint)
            if replay is not None:
                return replay
        await self._check_name_free(body.name)
        offers = await self.ctx.catalog.choose_offers(self._offer_query(body))
        template = await self.ctx.catalog.get_template(body.template_id)
        await ensure_within_spend_limit(self.ctx, offers[0].price_units * body.gpu_num)
        instance = await self._insert(body, offers[0], template, idempotency_key, fingerprint)
        try:
            placement = await place(
                self.ctx, instance.id, offers, owner=self.owner, marked=instance
            )
        except ServiceError as exc:
            await self._fail(instance.id, exc.message, idempotency_key, exc)
            raise
        return await self._finish(instance.id, placement, idempotency_key)

    def _offer_query(self, body: CreateInstanceIn) -> OfferQuery:
        return OfferQuery(
            product_name=body.product_name,
            region=body.region or (None if body.regions else self.ctx.settings.default_region),
            regions=body.regions,
            billing_mode=body.billing_mode,
            max_price_per_hour=body.max_price_per_hour,
            gpu_num=body.gpu_num,
            rootfs_size=body.rootfs_size,
        )

    async def _replay(self, key: str, fingerprint: str) -> CreateResult | None:
        async with self.ctx.db.read() as session:
            replay = await IdempotencyRepository(session).find(
                IDEMPOTENCY_SCOPE, key, fingerprint, self.ctx.clock.now()
            )
        if replay is None:
            return None
        if replay.body is not None and replay.status_code is not None:
            return CreateResult(replay.status_code, replay.body)
        if replay.instance_id is None:
            return None
        return CreateResult(
            201, await self._response_for(replay.instance_id, "Create already accepted")
        )

    async def _check_name_free(self, name: str) -> None:
        async with self.ctx.db.read() as session:
            existing = await InstanceRepository(session).get_live_by_name(name)
        if existing is not None:
            raise NameTaken(
                f"An instance named {name!r} already exists",
                details={"name": name, "instanceId": existing.id},
            )

    def _new_row(self, body: CreateInstanceIn, offer: Offer, template: TemplateSpec) -> Instance:
        now = self.ctx.clock.now()
        instance = Instance(
            id=new_instance_id(),
            name=body.name,
            status=Status.CREATING.value,
            source="managed",
            gpu_num=body.gpu_num,
            rootfs_size=body.rootfs_size,
            billing_mode=body.billing_mode,
            template_id=template.id,
            image_url=template.image,
            image_auth_id=template.image_auth_id,
            ports=[{"port": p.port, "type": p.type} for p in template.ports],
            envs=_merged_envs(template, body),
            command=template.start_command or None,
            regions_allowed=list(body.regions or []),
            max_price_per_hour=body.max_price_per_hour,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
            health_check_config=_health_config(body),
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            next_sync_at=now,
            # Marked as sent to the first offer in the inserting transaction (one commit fewer
            # per create); a crash before the request leaves is then resolved by name.
            create_sent_at=now,
            create_attempts=1,
            runtime_seconds=0.0,
            lease_owner=self.owner,
            lease_expires_at=now + lease_hold(self.ctx),
            **instance_settings(self.ctx.settings, body),
        )
        for name, value in offer_fields(offer, body.gpu_num).items():
            setattr(instance, name, value)
        return instance

    async def _insert(
        self,
        body: CreateInstanceIn,
        offer: Offer,
        template: TemplateSpec,
        key: str | None,
        fingerprint: str,
    ) -> Instance:
        instance = self._new_row(body, offer, template)
        try:
            async with write_unit(self.ctx) as uow:
                uow.instances.add(instance)
                if key:
                    await IdempotencyRepository(uow.session).claim(
                        IDEMPOTENCY_SCOPE, key, fingerprint, instance.id, self.ctx.clock.now()
                    )
                await uow.recorder.record(instance, EventType.CREATED, self._created_data(instance))
        except IntegrityError:
            raise NameTaken(
                f"An instance named {body.name!r} already exists", details={"name": body.name}
            ) from None
        return instance

    def _created_data(self, instance: Instance) -> dict[str, Any]:
        return {
            "productName": instance.product_name,
            "region": instance.region,
            "billingMode": instance.billing_mode,
            "pricePerHour": usd(instance.price_units),
        }

    async def _finish(
        self, instance_id: str, placement: Placement, key: str | None
    ) -> CreateResult:
        if placement.novita_id is None and not placement.unknown:
            error = self._placement_error(placement)
            await self._fail(instance_id, error.message, key, error)
            raise error
        async with write_unit(self.ctx) as uow:
            instance = await uow.instances.get(instance_id)
            assert instance is not None
            if placement.novita_id:
                instance.novita_instance_id = placement.novita_id
                instance.upstream_status = "toCreate"
            instance.next_sync_at = self.ctx.clock.now()
            instance.updated_at = self.ctx.clock.now()
            instance.lease_owner = None
            instance.lease_expires_at = None
        message = (
            "Instance creation started"
            if placement.novita_id
            else "Create sent; confirming the instance with Novita"
        )
        body = self._response(instance, message)
        if key:
            await self._complete_key(key, 201, body)
        return CreateResult(201, body)

    def _placement_error(self, placement: Placement) -> ServiceError:
        if isinstance(placement.error, UpstreamInsufficientResource):
            return InsufficientResource(
                "No region had capacity for this instance", details={"regions": placement.skipped}
            )
        assert placement.error is not None
        return upstream_error_to_service_error(placement.error)

    async def _fail(
        self, instance_id: str, message: str, key: str | None, error: ServiceError
    ) -> None:
        """Mark the row failed and free its name.

        A final answer is remembered for the key; a transient one (503/504) is not, so a retry
        with the same key tries again.
        """
        async with write_unit(self.ctx) as uow:
            instance = await uow.instances.get(instance_id)
            assert instance is not None
            await change_status(uow.recorder, instance, Status.FAILED, error=message)
            instance.deleted_at = self.ctx.clock.now()
            instance.lease_owner = None
            instance.lease_expires_at = None
            if key and error.status_code not in _TRANSIENT_STATUSES:
                await IdempotencyRepository(uow.session).complete(
                    IDEMPOTENCY_SCOPE, key, error.status_code, error_body(error)
                )
            elif key:
                await IdempotencyRepository(uow.session).release(IDEMPOTENCY_SCOPE, key)

    async def _complete_key(self, key: str, status_code: int, body: dict[str, Any]) -> None:
        async with write_unit(self.ctx) as uow:
            await IdempotencyRepository(uow.session).complete(
                IDEMPOTENCY_SCOPE, key, status_code, body
            )

    async def _response_for(self, instance_id: str, message: str) -> dict[str, Any]:
        async with self.ctx.db.read() as session:
            instance = await session.get(Instance, instance_id)
        if instance is None:
            raise InstanceNotFound(details={"instanceId": instance_id})
        return self._response(instance, message)

    def _response(self, instance: Instance, message: str) -> dict[str, Any]:
        now = self.ctx.clock.now()
        return {
            "instanceId": instance.id,
            "novitaInstanceId": instance.novita_instance_id,
            "status": instance.status,
            "message": message,
            "productId": instance.product_id,
            "productName": instance.product_name,
            "region": instance.region,
            "spotPrice": usd(instance.spot_price_units),
            "price": usd(instance.price_units),
            "estimatedReadyTime": iso(now + _TYPICAL_BOOT),
            "instance": instance_view(instance, now),
        }
