"""Sending a create upstream for a local row, with region fallback.

Shared by the create endpoint, interrupted-create recovery and spot recreation. The row holds
everything the upstream body needs (image, ports, envs, command); registry credentials are
resolved from the row's registry-auth id at send time and never stored.

Before each attempt the row is committed with ``create_sent_at`` set,
so a crash after sending is found again by name rather than created twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from novita_gpu.catalog.service import Offer, OfferQuery
from novita_gpu.context import AppContext
from novita_gpu.core.errors import ServiceError
from novita_gpu.db.models import Instance
from novita_gpu.instances.uow import write_unit
from novita_gpu.instances.upstream_lookup import MARKER_ENV, locate_created
from novita_gpu.upstream import (
    CreateInstanceRequest,
    CreateOutcomeUnknown,
    EnvVar,
    PortSpec,
    ToolSpec,
    UpstreamError,
    UpstreamInsufficientResource,
)


@dataclass
class Placement:
    """How a placement ended.

    ``novita_id`` is set when upstream confirmed (or we found) the instance; ``unknown`` when
    the outcome could not be learned yet (the reconciler will find it by name); otherwise
    ``error`` is the final upstream error and ``skipped`` lists regions without capacity.
    """

    novita_id: str | None = None
    offer: Offer | None = None
    unknown: bool = False
    error: UpstreamError | None = None
    skipped: list[dict[str, str]] = field(default_factory=list)


def upstream_envs(instance: Instance) -> tuple[EnvVar, ...]:
    """The row's envs plus the marker that lets us recognise the instance by name later."""
    envs = [EnvVar(key=e["key"], value=e["value"]) for e in instance.envs or []]
    envs.append(EnvVar(key=MARKER_ENV, value=instance.id))
    return tuple(envs)


def offer_fields(offer: Offer, gpu_num: int) -> dict[str, Any]:
    """Row fields that describe the chosen offer (prices are per hour for all GPUs)."""

    def total(units: int | None) -> int | None:
        return None if units is None else units * gpu_num

    return {
        "product_id": offer.product_id,
        "product_name": offer.product_name,
        "region": offer.region,
        "cluster_id": offer.cluster_id,
        "price_units": total(offer.price_units),
        "spot_price_units": total(offer.spot_price_units),
        "on_demand_price_units": total(offer.on_demand_price_units),
    }


async def _template_tools(
    ctx: AppContext, instance: Instance, ports: tuple[PortSpec, ...]
) -> tuple[ToolSpec, ...]:
    """The template's tools (Jupyter...) whose port the instance still exposes, so upstream
    sets them up as the template intends. A template gone since the create was accepted
    leaves the tools out rather than failing the create."""
    if not instance.template_id:
        return ()
    try:
        spec = await ctx.catalog.get_template(instance.template_id)
    except ServiceError:
        return ()
    exposed = {(p.port, p.type) for p in ports}
    return tuple(tool for tool in spec.tools if (tool.port, tool.type) in exposed)


def offer_query_for(instance: Instance, *, region: str | None) -> OfferQuery:
    """The offer query that creates ``instance`` again from its row: the same product, GPUs,
    disk and billing mode, within its allowed regions and price cap; ``region`` goes first."""
    return OfferQuery(
        product_name=instance.product_name,
        region=region,
        regions=list(instance.regions_allowed or []) or None,
        billing_mode="spot" if instance.billing_mode == "spot" else "onDemand",
        max_price_per_hour=instance.max_price_per_hour,
        gpu_num=instance.gpu_num,
        rootfs_size=instance.rootfs_size,
    )


async def _request(ctx: AppContext, instance: Instance) -> CreateInstanceRequest:
    ports = tuple(PortSpec(port=p["port"], type=p["type"]) for p in instance.ports or [])
    credentials = None
    if instance.image_auth_id:
        credentials = SecretStr(await ctx.catalog.registry_credentials(instance.image_auth_id))
    return CreateInstanceRequest(
        name=instance.name,
        product_id=instance.product_id or "",
        gpu_num=instance.gpu_num,
        rootfs_size=instance.rootfs_size,
        image_url=instance.image_url or "",
        image_auth=credentials,
        image_auth_id=instance.image_auth_id or None,
        ports=ports,
        tools=await _template_tools(ctx, instance, ports),
        envs=upstream_envs(instance),
        command=instance.command or None,
        cluster_id=instance.cluster_id,
        billing_mode="spot" if instance.billing_mode == "spot" else "onDemand",
    )


def lease_hold(ctx: AppContext) -> timedelta:
    """How long one create attempt may hold its row (renewed before each attempt): the
    upstream timeout plus room for the lookup that follows a lost answer. After a crash the
    recovery job takes over once it expires."""
    return timedelta(seconds=ctx.settings.upstream_timeout_seconds * 2 + 5)


async def _mark_sending(
    ctx: AppContext, instance_id: str, offer: Offer, owner: str, *, first: bool
) -> Instance:
    """Commit the offer, ``create_sent_at`` and our lease before the request leaves.

    ``create_attempts`` counts placements (one per pass over the offers), not offers tried.
    """
    async with write_unit(ctx) as uow:
        instance = await uow.instances.get(instance_id)
        assert instance is not None
        now = ctx.clock.now()
        for name, value in offer_fields(offer, instance.gpu_num).items():
            setattr(instance, name, value)
        instance.create_sent_at = now
        instance.create_attempts += 1 if first else 0
        instance.updated_at = now
        instance.lease_owner = owner
        instance.lease_expires_at = now + lease_hold(ctx)
    return instance


async def _lost_answer(ctx: AppContext, instance: Instance) -> Placement:
    try:
        found = await locate_created(ctx.upstream, instance)
    except UpstreamError:
        found = None
    if found is None:
        return Placement(unknown=True)
    return Placement(novita_id=found.id)


async def place(
    ctx: AppContext,
    instance_id: str,
    offers: Sequence[Offer],
    *,
    owner: str,
    marked: Instance | None = None,
) -> Placement:
    """Try ``offers`` in order until upstream creates the instance; ``owner`` holds the row's
    lease meanwhile (the caller releases it).

    ``marked`` is the row as committed with the first offer, ``create_sent_at`` and the lease
    already set (a new row, marked in the transaction that inserted it); otherwise each offer is
    marked in a transaction of its own before its request leaves.

    Only "no capacity" moves on to the next offer; any other definite refusal ends the
    placement, and an ambiguous failure is resolved by name (never re-sent here).
    """
    result = Placement()
    for index, offer in enumerate(offers):
        if index == 0 and marked is not None:
            instance = marked
        else:
            instance = await _mark_sending(ctx, instance_id, offer, owner, first=index == 0)
        try:
            novita_id = await ctx.upstream.create_instance(await _request(ctx, instance))
        except UpstreamInsufficientResource as exc:
            result.skipped.append({"region": offer.region, "reason": f"no capacity: {exc}"})
            result.error = exc
            continue
        except CreateOutcomeUnknown:
            lost = await _lost_answer(ctx, instance)
            lost.offer, lost.skipped = offer, result.skipped
            return lost
        except UpstreamError as exc:
            result.error = exc
            return result
        return Placement(novita_id=novita_id, offer=offer, skipped=result.skipped)
    return result
