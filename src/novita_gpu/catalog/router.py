"""Catalog routes: products, templates, regions, and the catalog caches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from novita_gpu.catalog.offers import BillingMode
from novita_gpu.catalog.schemas import (
    CacheClearOut,
    CacheStatsOut,
    ProductsOut,
    RegionsOut,
    TemplateOut,
)
from novita_gpu.core.errors import ProductNotFound, TemplateNotFound, ValidationFailed
from novita_gpu.core.openapi import UPSTREAM_ERRORS, error_responses
from novita_gpu.deps import ContextDep

router = APIRouter(prefix="/api", tags=["catalog"])


@router.get(
    "/products", responses=error_responses(ValidationFailed, ProductNotFound, *UPSTREAM_ERRORS)
)
async def list_products(
    ctx: ContextDep,
    product_name: Annotated[str | None, Query(alias="productName", max_length=200)] = None,
    billing_mode: Annotated[BillingMode | None, Query(alias="billingMode")] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
) -> ProductsOut:
    """Offers across regions with prices and availability, cheapest usable first."""
    offers = await ctx.catalog.product_offers(product_name or None, billing_mode, region or None)
    return ProductsOut.of(offers)


@router.get(
    "/templates/{templateId}", responses=error_responses(TemplateNotFound, *UPSTREAM_ERRORS)
)
async def get_template(
    ctx: ContextDep, template_id: Annotated[str, Path(alias="templateId", max_length=255)]
) -> TemplateOut:
    """A template's image, flattened ports (tools included) and envs; no credentials."""
    return TemplateOut.of(await ctx.catalog.get_template(template_id))


@router.get("/regions", responses=error_responses(*UPSTREAM_ERRORS))
async def list_regions(ctx: ContextDep) -> RegionsOut:
    """Every region upstream offers, with its cluster id and GPU types."""
    return RegionsOut.of(await ctx.catalog.regions())


@router.get("/cache/stats")
async def cache_stats(ctx: ContextDep) -> CacheStatsOut:
    """Hit/miss/entry counts of the product, cluster and template caches."""
    return CacheStatsOut.model_validate(ctx.catalog.stats())


@router.post("/cache/clear")
async def clear_cache(ctx: ContextDep) -> CacheClearOut:
    """Empty the catalog caches (only those); the next lookups go upstream."""
    return CacheClearOut.model_validate(ctx.catalog.clear())
