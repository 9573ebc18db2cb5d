"""``novita-gpu products``: what can be created, where, and at what price."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from novita_gpu.cli import render
from novita_gpu.cli.remote import JsonOption, Remote, TokenOption, UrlOption, connect


class BillingMode(StrEnum):
    SPOT = "spot"
    ON_DEMAND = "onDemand"


def products(
    product_name: Annotated[
        str | None,
        typer.Option("--product-name", "-p", help='Only this product, e.g. "RTX 4090 24GB".'),
    ] = None,
    billing_mode: Annotated[
        BillingMode | None, typer.Option("--billing-mode", help="Price to compare by.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Offers across regions with prices and availability, in the order create picks them."""
    remote = Remote(url, token, json_out)
    mode = billing_mode.value if billing_mode else None
    with connect(remote) as client:
        offers = client.products(product_name, billing_mode=mode, region=region)
    if remote.json:
        render.print_json(offers)
    else:
        render.console.print(render.products_table(offers))
