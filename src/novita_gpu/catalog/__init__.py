"""The catalog: GPU offers, regions and templates from upstream, cached.

:class:`CatalogService` chooses the offers a create tries (cheapest usable first, with region
preference and fallback), lists offers for ``GET /api/products``, resolves templates and
registry credentials. The routes are in :mod:`novita_gpu.catalog.router`.
"""

from novita_gpu.catalog.cache import CacheStats, TtlCache
from novita_gpu.catalog.listing import ProductOffer
from novita_gpu.catalog.offers import BillingMode, Offer, OfferQuery
from novita_gpu.catalog.regions import RegionInfo
from novita_gpu.catalog.service import CatalogService
from novita_gpu.catalog.templates import TemplateSpec

__all__ = [
    "BillingMode",
    "CacheStats",
    "CatalogService",
    "Offer",
    "OfferQuery",
    "ProductOffer",
    "RegionInfo",
    "TemplateSpec",
    "TtlCache",
]
