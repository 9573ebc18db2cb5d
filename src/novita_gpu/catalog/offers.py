"""Offers: one upstream product entry in one region, priced for one billing mode.

Upstream lists a GPU model as several product entries (one per spec id), each naming the
regions it is offered in (an empty list means every cluster). A :class:`Placement` is one such
(entry, region) pair; :func:`rejection` says why it cannot serve a request, and
:func:`to_offer` turns a usable one into the :class:`Offer` a create is sent with.

Product names are matched by :func:`match_products`: an exact, case-insensitive match (runs of
whitespace count as one space) wins; only when no name matches exactly is a substring match
used, and then it must point at a single product name.

Prices are integers in 1/100,000 USD per GPU-hour, as upstream sends them; ``*_usd`` values are
dollars. An entry offers a billing mode when that mode's price is positive and, if the entry
lists ``billingMethods``, the mode is among them (the emulator and Novita send spot price
``"0"`` for entries without spot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from novita_gpu.catalog.regions import ClusterIndex
from novita_gpu.core.errors import ProductNotFound, ValidationFailed
from novita_gpu.upstream import Product, usd

BillingMode = Literal["spot", "onDemand"]
NO_CAPACITY = "no capacity"
NOT_OFFERED = "not offered"


@dataclass(frozen=True)
class OfferQuery:
    """What a create asks for; the defaults are the API's.

    ``region`` is tried first; ``regions`` (when given) are the only acceptable regions, in the
    order to try them (an empty list restricts nothing). Both take region codes (``CN-HK-01``,
    any case) or cluster ids.
    ``max_price_per_hour`` is USD for all ``gpu_num`` GPUs together.
    """

    product_name: str
    region: str | None = None
    regions: Sequence[str] | None = None
    billing_mode: BillingMode = "spot"
    max_price_per_hour: float | None = None
    gpu_num: int = 1
    rootfs_size: int = 60


@dataclass(frozen=True)
class Offer:
    """A usable offer. ``price_units`` is per GPU-hour in the chosen billing mode;
    ``price_per_hour_usd`` is the total for ``gpu_num`` GPUs."""

    product_id: str
    product_name: str
    region: str
    cluster_id: str
    billing_mode: BillingMode
    gpu_num: int
    price_units: int
    spot_price_units: int | None
    on_demand_price_units: int | None
    price_per_hour_usd: float
    min_rootfs: int
    max_rootfs: int


@dataclass(frozen=True)
class Placement:
    """One product entry in one region; ``cluster_id`` is ``None`` when upstream's cluster
    list does not know the region (then nothing can be created there)."""

    product: Product
    region: str
    cluster_id: str | None

    def price_units(self, mode: BillingMode) -> int | None:
        """Per-GPU price in ``mode``, or ``None`` when the entry does not offer ``mode``."""
        return price_units(self.product, mode)


def price_units(product: Product, mode: BillingMode) -> int | None:
    """``product``'s per-GPU price for ``mode``; ``None`` when it does not offer ``mode``."""
    units = product.spot_price if mode == "spot" else product.price
    listed = not product.billing_methods or mode in product.billing_methods
    return units if listed and units is not None and units > 0 else None


def placements(products: Iterable[Product], index: ClusterIndex) -> list[Placement]:
    """Every (entry, region) pair; an entry without regions is in every known cluster."""
    found: list[Placement] = []
    for product in products:
        labels = product.regions or index.codes()
        for label in dict.fromkeys(labels):
            cluster = index.find(label)
            region = cluster.name if cluster else label.split("(", 1)[0].strip()
            found.append(Placement(product, region, cluster.id if cluster else None))
    return found


def _rootfs_bounds(product: Product) -> tuple[int, int | None]:
    return product.min_root_fs, product.max_root_fs or None


def _rootfs_reason(product: Product, rootfs_size: int) -> str | None:
    low, high = _rootfs_bounds(product)
    if rootfs_size >= low and (high is None or rootfs_size <= high):
        return None
    return f"rootfsSize {rootfs_size} outside product bounds {low}-{high or 'unbounded'}"


def _price_reason(units: int, gpu_num: int, max_price: float | None) -> str | None:
    total = usd(units * gpu_num)
    if max_price is None or total <= Decimal(str(max_price)):
        return None
    return f"price {total.normalize():f} above maxPricePerHour {max_price:g}"


def rejection(
    placement: Placement,
    mode: BillingMode,
    *,
    gpu_num: int = 1,
    rootfs_size: int | None = None,
    max_price: float | None = None,
) -> str | None:
    """Why ``placement`` cannot serve the request, or ``None`` when it can.

    Checks run from the most to the least permanent reason: billing mode, unknown cluster,
    root disk bounds, price cap, and last capacity (``availableDeploy``/``inventoryState``).
    """
    product = placement.product
    units = placement.price_units(mode)
    if units is None:
        return f"not offered for {mode} billing"
    if placement.cluster_id is None:
        return "region not in upstream's cluster list"
    if rootfs_size is not None and (reason := _rootfs_reason(product, rootfs_size)):
        return reason
    if reason := _price_reason(units, gpu_num, max_price):
        return reason
    if not product.available_deploy or product.inventory_state == "none":
        return NO_CAPACITY
    return None


def query_rejection(placement: Placement, query: OfferQuery) -> str | None:
    """:func:`rejection` with every check of ``query``."""
    return rejection(
        placement,
        query.billing_mode,
        gpu_num=query.gpu_num,
        rootfs_size=query.rootfs_size,
        max_price=query.max_price_per_hour,
    )


def to_offer(placement: Placement, query: OfferQuery) -> Offer:
    """The :class:`Offer` for a placement that :func:`query_rejection` accepted."""
    product, units = placement.product, placement.price_units(query.billing_mode)
    # Both were checked by rejection().
    assert units is not None
    assert placement.cluster_id is not None
    low, high = _rootfs_bounds(product)
    return Offer(
        product_id=product.id,
        product_name=product.name,
        region=placement.region,
        cluster_id=placement.cluster_id,
        billing_mode=query.billing_mode,
        gpu_num=query.gpu_num,
        price_units=units,
        spot_price_units=price_units(product, "spot"),
        on_demand_price_units=price_units(product, "onDemand"),
        price_per_hour_usd=float(usd(units * query.gpu_num)),
        min_rootfs=low,
        max_rootfs=high or 0,
    )


def normalize_name(name: str) -> str:
    """Case- and whitespace-insensitive form of a product name."""
    return " ".join(name.split()).casefold()


def filter_products(products: Iterable[Product], name: str) -> list[Product]:
    """Entries named exactly ``name`` if any, else every entry whose name contains it."""
    wanted = normalize_name(name)
    entries = list(products)
    exact = [p for p in entries if normalize_name(p.name) == wanted]
    return exact or [p for p in entries if wanted in normalize_name(p.name)]


def match_products(products: Iterable[Product], name: str) -> list[Product]:
    """The entries of the one product ``name`` means (see the module docstring).

    Raises :class:`ProductNotFound` (404) when no name contains ``name``, and
    :class:`ValidationFailed` (400) when a substring match names several products.
    """
    entries = list(products)
    found = filter_products(entries, name)
    if not found:
        known = sorted({p.name for p in entries})
        raise ProductNotFound(
            f"No product named {name!r}", details={"productName": name, "knownProducts": known}
        )
    if len({normalize_name(p.name) for p in found}) > 1:
        names = sorted({p.name for p in found})
        raise ValidationFailed.for_field(
            "productName", f"{name!r} matches several products: {', '.join(names)}"
        )
    return found
