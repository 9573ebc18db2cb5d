"""``CatalogService``: products, regions and templates from upstream, cached.

Upstream calls, and what is cached for ``ttl_seconds`` (``CATALOG_CACHE_TTL``):

- ``GET /products`` once per GPU count, without a name or billing filter: one answer covers
  every product, region and billing mode, so the reasons an offer is unusable (no spot price,
  no capacity) can be told apart. Upstream's billing filter defaults to ``onDemand``, so an
  entry offered *only* as spot would not be seen; Novita lists none.
- ``GET /clusters`` once (region code -> cluster id).
- ``GET /template`` per template id; a not-found is not cached.
- ``GET /repository/auths`` on every :meth:`CatalogService.registry_credentials` call, never
  cached: credentials are not kept in memory longer than one create needs them.

Every upstream failure surfaces as a :class:`~novita_gpu.core.errors.ServiceError`
(:mod:`novita_gpu.upstream.api_errors`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from novita_gpu.catalog.cache import TtlCache
from novita_gpu.catalog.choice import choose_offers
from novita_gpu.catalog.listing import ProductOffer, list_offers
from novita_gpu.catalog.offers import BillingMode, Offer, OfferQuery
from novita_gpu.catalog.regions import ClusterIndex, RegionInfo, region_infos
from novita_gpu.catalog.templates import TemplateSpec, template_spec
from novita_gpu.core.clock import Clock
from novita_gpu.core.errors import TemplateNotFound, ValidationFailed
from novita_gpu.upstream import (
    NovitaClient,
    Product,
    Template,
    UpstreamNotFound,
    UpstreamValidationError,
)
from novita_gpu.upstream.api_errors import upstream_errors_as_service_errors

__all__ = ["CatalogService", "Offer", "OfferQuery", "ProductOffer", "RegionInfo", "TemplateSpec"]

log = structlog.get_logger(__name__)

_ALL = "all"
MIN_GPUS, MAX_GPUS = 1, 8


class CatalogService:
    """Offers, regions, templates and registry credentials, read through TTL caches."""

    def __init__(
        self, upstream: NovitaClient, clock: Clock, *, ttl_seconds: float, default_region: str
    ) -> None:
        self._upstream = upstream
        self.default_region = default_region
        self._products: TtlCache[int, list[Product]] = TtlCache(
            "products", clock, ttl_seconds=ttl_seconds
        )
        self._clusters: TtlCache[str, ClusterIndex] = TtlCache(
            "clusters", clock, ttl_seconds=ttl_seconds
        )
        self._templates: TtlCache[str, Template] = TtlCache(
            "templates", clock, ttl_seconds=ttl_seconds
        )
        self.ttl_seconds = ttl_seconds

    async def choose_offers(self, query: OfferQuery) -> list[Offer]:
        """Usable offers for a create, best first (see :mod:`novita_gpu.catalog.choice`).

        Raises ``ProductNotFound`` (404), ``ValidationFailed`` (400: ambiguous name, unknown
        region), ``NoAvailableProduct`` (422, a reason per region) or an upstream error.
        """
        if not MIN_GPUS <= query.gpu_num <= MAX_GPUS:
            raise ValidationFailed.for_field("gpuNum", f"must be {MIN_GPUS}-{MAX_GPUS}")
        products, index = await asyncio.gather(self._product_list(query.gpu_num), self._index())
        offers = choose_offers(products, index, query, self.default_region)
        log.debug("catalog.offers", product=query.product_name, count=len(offers))
        return offers

    async def product_offers(
        self,
        product_name: str | None = None,
        billing_mode: BillingMode | None = None,
        region: str | None = None,
    ) -> list[ProductOffer]:
        """The offer table for ``GET /api/products`` (:mod:`novita_gpu.catalog.listing`);
        ``billing_mode`` defaults to ``spot`` as a create's does."""
        products, index = await asyncio.gather(self._product_list(1), self._index())
        mode: BillingMode = billing_mode or "spot"
        return list_offers(
            products, index, product_name=product_name, billing_mode=mode, region=region
        )

    async def regions(self) -> list[RegionInfo]:
        """Every region upstream lists, sorted by code."""
        products, index = await asyncio.gather(self._product_list(1), self._index())
        return region_infos(index, products, self.default_region)

    async def get_template(self, template_id: str | int) -> TemplateSpec:
        """The template's create inputs. Raises ``TemplateNotFound`` (404)."""
        key = str(template_id).strip()
        if not key:
            raise TemplateNotFound(details={"templateId": key})
        template = await self._templates.get(key, lambda: self._fetch_template(key))
        return template_spec(template)

    async def registry_credentials(self, auth_id: str) -> str:
        """``username:password`` for upstream's ``imageAuth``, fetched fresh every call.

        The value is a secret: pass it straight to the create request and never log or store
        it. Raises ``ValidationFailed`` (400) when upstream has no auth with this id (or it has
        no password).
        """
        with upstream_errors_as_service_errors():
            auths = await self._upstream.list_registry_auths()
        auth = next((a for a in auths if a.id == auth_id), None)
        secret = auth.image_auth() if auth else None
        if secret is None:
            raise ValidationFailed.for_field(
                "imageAuth", f"registry auth {auth_id!r} not found upstream"
            )
        return secret.get_secret_value()

    def stats(self) -> dict[str, Any]:
        """Hit, miss, coalesced-load and entry counts of each catalog cache."""
        caches = {s.name: s for s in (c.stats() for c in self._caches())}
        return {
            "ttlSeconds": self.ttl_seconds,
            "caches": {
                name: {
                    "entries": s.entries,
                    "hits": s.hits,
                    "misses": s.misses,
                    "coalesced": s.coalesced,
                }
                for name, s in caches.items()
            },
        }

    def clear(self) -> dict[str, Any]:
        """Empty the catalog caches (and only those); returns the entries dropped per cache."""
        cleared = {cache.name: cache.clear() for cache in self._caches()}
        log.info("catalog.cache_cleared", **cleared)
        return {"cleared": cleared, "total": sum(cleared.values())}

    def _caches(self) -> tuple[TtlCache[Any, Any], ...]:
        return (self._products, self._clusters, self._templates)

    async def _product_list(self, gpu_num: int) -> list[Product]:
        return await self._products.get(gpu_num, lambda: self._fetch_products(gpu_num))

    async def _index(self) -> ClusterIndex:
        return await self._clusters.get(_ALL, self._fetch_clusters)

    async def _fetch_products(self, gpu_num: int) -> list[Product]:
        with upstream_errors_as_service_errors():
            return await self._upstream.list_products(gpu_num=gpu_num)

    async def _fetch_clusters(self) -> ClusterIndex:
        with upstream_errors_as_service_errors():
            return ClusterIndex(await self._upstream.list_clusters())

    async def _fetch_template(self, template_id: str) -> Template:
        with upstream_errors_as_service_errors():
            try:
                return await self._upstream.get_template(template_id)
            except (UpstreamNotFound, UpstreamValidationError) as exc:
                # Novita answers an unknown or malformed id with 400 TEMPLATE_NOT_FOUND or
                # VALIDATOR_PARAM; templateId is the only parameter, so both mean "no such one".
                raise TemplateNotFound(
                    f"Template {template_id!r} not found", details={"templateId": template_id}
                ) from exc
