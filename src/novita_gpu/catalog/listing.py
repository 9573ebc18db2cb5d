"""The offer table behind ``GET /api/products``.

Every (product entry, region) pair with its prices, whether a create could use it now and, if
not, why. Sorted the way a create without ``region``/``regions`` ranks offers: usable ones
first, cheapest first in the listed billing mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from novita_gpu.catalog.offers import (
    BillingMode,
    Placement,
    filter_products,
    placements,
    price_units,
    rejection,
)
from novita_gpu.catalog.regions import ClusterIndex
from novita_gpu.core.errors import ValidationFailed
from novita_gpu.upstream import Product, usd


@dataclass(frozen=True)
class ProductOffer:
    """One row of the offer table. Prices are USD per GPU-hour; ``price_per_hour`` is the
    price in ``billing_mode`` (``None`` when the entry does not offer it)."""

    product_id: str
    product_name: str
    region: str
    cluster_id: str | None
    billing_mode: BillingMode
    price_per_hour: float | None
    spot_price: float | None
    on_demand_price: float | None
    available: bool
    reason: str | None
    inventory_state: str | None
    cpu_per_gpu: int
    memory_per_gpu: int
    min_rootfs: int
    max_rootfs: int


def _dollars(units: int | None) -> float | None:
    return None if units is None else float(usd(units))


def _row(placement: Placement, mode: BillingMode) -> ProductOffer:
    product = placement.product
    reason = rejection(placement, mode)
    return ProductOffer(
        product_id=product.id,
        product_name=product.name,
        region=placement.region,
        cluster_id=placement.cluster_id,
        billing_mode=mode,
        price_per_hour=_dollars(price_units(product, mode)),
        spot_price=_dollars(price_units(product, "spot")),
        on_demand_price=_dollars(price_units(product, "onDemand")),
        available=reason is None,
        reason=reason,
        inventory_state=product.inventory_state,
        cpu_per_gpu=product.cpu_per_gpu,
        memory_per_gpu=product.memory_per_gpu,
        min_rootfs=product.min_root_fs,
        max_rootfs=product.max_root_fs,
    )


def _order(row: ProductOffer) -> tuple[bool, bool, float, str, str]:
    price = row.price_per_hour
    return (not row.available, price is None, price or 0.0, row.region, row.product_id)


def list_offers(
    products: Iterable[Product],
    index: ClusterIndex,
    *,
    product_name: str | None,
    billing_mode: BillingMode,
    region: str | None,
) -> list[ProductOffer]:
    """The offer table, optionally narrowed to products matching ``product_name`` (as a
    create matches them, but without failing: no match is an empty table) and to one region.

    Raises :class:`ValidationFailed` (400) for an unknown ``region``.
    """
    entries = filter_products(products, product_name) if product_name else list(products)
    code = None
    if region:
        code = index.code_of(region)
        if code is None:
            raise ValidationFailed.for_field("region", f"unknown region {region!r}")
    rows = [
        _row(p, billing_mode)
        for p in placements(entries, index)
        if code is None or p.region == code
    ]
    return sorted(rows, key=_order)
