"""Choosing the offers a create tries, in order (``region``, ``regions``, price).

Order of the usable offers:

1. the first region: ``query.region``, else the configured default region (unless
   ``query.regions`` is given, whose order then rules);
2. with ``query.regions``: the regions in the given order, and no others;
   without: every region, cheapest first;
3. within a region, cheapest first; ties go by region code, then product id.

When nothing is usable, :class:`NoAvailableProduct` lists a reason for every region considered,
including requested regions where the product is not offered at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from novita_gpu.catalog.offers import (
    NOT_OFFERED,
    Offer,
    OfferQuery,
    Placement,
    match_products,
    placements,
    query_rejection,
    to_offer,
)
from novita_gpu.catalog.regions import ClusterIndex
from novita_gpu.core.errors import NoAvailableProduct, ValidationFailed
from novita_gpu.upstream import Product

log = structlog.get_logger(__name__)

_REASONS_IN_MESSAGE = 8


@dataclass(frozen=True)
class RegionPlan:
    """Which regions a create may use (``allowed``; ``None`` = all) and which goes first."""

    first: str | None
    allowed: tuple[str, ...] | None

    def admits(self, region: str) -> bool:
        return self.allowed is None or region in self.allowed

    def rank(self, region: str) -> tuple[bool, int]:
        """Sort key: the first region, then the ``allowed`` order (price decides after)."""
        order = self.allowed.index(region) if self.allowed and region in self.allowed else 0
        return (region != self.first, order)

    def named(self) -> list[str]:
        """Regions the request named (first, then allowed), each once."""
        return list(dict.fromkeys([*([self.first] if self.first else []), *(self.allowed or ())]))


def _known_region(index: ClusterIndex, region: str, field: str) -> str:
    code = index.code_of(region)
    if code is None:
        known = ", ".join(index.codes())
        raise ValidationFailed.for_field(field, f"unknown region {region!r} (known: {known})")
    return code


def _default_first(
    default: str, allowed: tuple[str, ...] | None, index: ClusterIndex
) -> str | None:
    if not default.strip():
        return None
    code = index.code_of(default)
    if code is None:
        log.warning("catalog.default_region_unknown", default_region=default)
    return code if code and (allowed is None or code in allowed) else None


def _first_region(
    region: str | None, allowed: tuple[str, ...] | None, index: ClusterIndex, default: str
) -> str | None:
    """The region to try first.

    Without ``region``, the configured default (``""`` for none) goes first unless ``regions``
    is given. The default (also when a caller passes it on) is dropped when unknown or not allowed;
    any other ``region`` that is unknown or outside ``regions`` is a validation error.
    """
    if region is None:
        return None if allowed is not None else _default_first(default, allowed, index)
    if region.strip().upper() == default.strip().upper():
        return _default_first(default, allowed, index)
    code = _known_region(index, region, "region")
    if allowed is not None and code not in allowed:
        raise ValidationFailed.for_field("region", f"{code} is not one of regions")
    return code


def region_plan(query: OfferQuery, index: ClusterIndex, default_region: str) -> RegionPlan:
    """The :class:`RegionPlan` for ``query``. Raises :class:`ValidationFailed` (400) for an
    unknown region code, or a ``region`` outside ``regions``."""
    allowed = None
    if query.regions:
        codes = [_known_region(index, r, f"regions[{i}]") for i, r in enumerate(query.regions)]
        allowed = tuple(dict.fromkeys(codes))
    return RegionPlan(_first_region(query.region, allowed, index, default_region), allowed)


def _order(offer: Offer, plan: RegionPlan) -> tuple[Any, ...]:
    return (*plan.rank(offer.region), offer.price_units, offer.region, offer.product_id)


def choose_offers(
    products: Iterable[Product], index: ClusterIndex, query: OfferQuery, default_region: str
) -> list[Offer]:
    """The usable offers for ``query`` in the order to try them (module docstring).

    Raises :class:`ProductNotFound` (404) for an unknown product name,
    :class:`ValidationFailed` (400) for an ambiguous name or a bad region, and
    :class:`NoAvailableProduct` (422) when no offer is usable.
    """
    entries = match_products(products, query.product_name)
    plan = region_plan(query, index, default_region)
    considered = [p for p in placements(entries, index) if plan.admits(p.region)]
    verdicts = [(p, query_rejection(p, query)) for p in considered]
    offers = [to_offer(p, query) for p, reason in verdicts if reason is None]
    if not offers:
        raise no_available_product(entries[0].name, query, plan, verdicts)
    return sorted(offers, key=lambda offer: _order(offer, plan))


def no_available_product(
    name: str,
    query: OfferQuery,
    plan: RegionPlan,
    verdicts: Sequence[tuple[Placement, str | None]],
) -> NoAvailableProduct:
    """The 422 with one ``{region, reason}`` row per region considered (and ``productId``
    where a product entry was there to reject)."""
    rows: list[dict[str, str]] = [
        {"region": p.region, "productId": p.product.id, "reason": reason or "usable"}
        for p, reason in verdicts
    ]
    offered = {p.region for p, _ in verdicts}
    rows += [{"region": r, "reason": NOT_OFFERED} for r in plan.named() if r not in offered]
    rows.sort(key=lambda row: (*plan.rank(row["region"]), row["region"]))
    summary = "; ".join(f"{r['region']}: {r['reason']}" for r in rows[:_REASONS_IN_MESSAGE])
    return NoAvailableProduct(
        f"No {name} offer is available for {query.billing_mode} billing ({summary})",
        details={
            "productName": name,
            "billingMode": query.billing_mode,
            "gpuNum": query.gpu_num,
            "regions": rows,
        },
    )
