"""Merging the product lists upstream gives for each billing mode into one list.

Asked with ``billingMethod=onDemand``, Novita may leave ``spotPrice`` out (or send 0); asked with
``spot``, it may leave out on-demand-only entries. An entry's fields are taken from the first
list that has it; a price it lacks (absent or 0) is filled from a later list, and its
``billingMethods`` become the union of what each list said.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from novita_gpu.upstream import Product


def _fill(base: Product, other: Product) -> Product:
    update: dict[str, object] = {}
    if not base.price and other.price:
        update["price"] = other.price
    if not base.spot_price and other.spot_price:
        update["spot_price"] = other.spot_price
    if base.billing_methods and other.billing_methods:
        merged = list(dict.fromkeys([*base.billing_methods, *other.billing_methods]))
        if merged != base.billing_methods:
            update["billing_methods"] = merged
    return base.model_copy(update=update) if update else base


def merge_products(lists: Iterable[Sequence[Product]]) -> list[Product]:
    """One entry per product id, in first-seen order (see the module docstring)."""
    merged: dict[str, Product] = {}
    for products in lists:
        for product in products:
            known = merged.get(product.id)
            merged[product.id] = product if known is None else _fill(known, product)
    return list(merged.values())
