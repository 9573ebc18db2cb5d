"""Checks of a configured Novita account, run by ``novita-gpu doctor`` before a first live start.

Each check is one upstream read; nothing is created, changed or billed. The checks stop after the
first one when the key is refused or Novita cannot be reached, since every other call would fail
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from novita_gpu.upstream.client import NovitaClient
from novita_gpu.upstream.errors import UpstreamError
from novita_gpu.upstream.health import describe_failure
from novita_gpu.upstream.instance_models import UpstreamInstance

DOCTOR_PAGE_SIZE = 20
"""Small pages, so paging is exercised even on a modest account."""


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    name: str
    verdict: Verdict
    detail: str


def _failed(name: str, error: UpstreamError) -> Check:
    described = describe_failure(error)
    return Check(name, Verdict.FAIL, described[1] if described and described[1] else str(error))


async def check_access(client: NovitaClient) -> list[Check]:
    """The key is accepted and regions are listed."""
    try:
        clusters = await client.list_clusters()
    except UpstreamError as error:
        return [_failed("API key and reachability", error)]
    names = ", ".join(c.name or c.id for c in clusters[:8]) + (" ..." if len(clusters) > 8 else "")
    return [
        Check("API key and reachability", Verdict.OK, f"{client.base_url} accepted the key"),
        Check("regions", Verdict.OK if clusters else Verdict.WARN, f"{len(clusters)}: {names}"),
    ]


async def check_products(client: NovitaClient) -> list[Check]:
    """Products are listed for both billing modes, with prices."""
    checks: list[Check] = []
    for mode in ("onDemand", "spot"):
        name = f"products ({mode})"
        try:
            products = await client.list_products(billing_method=mode)
        except UpstreamError as error:
            checks.append(_failed(name, error))
            continue
        priced = [p for p in products if (p.spot_price if mode == "spot" else p.price)]
        verdict = Verdict.OK if priced else Verdict.WARN
        checks.append(Check(name, verdict, f"{len(products)} listed, {len(priced)} with a price"))
    return checks


async def check_instances(client: NovitaClient, page_size: int = DOCTOR_PAGE_SIZE) -> list[Check]:
    """Every instance is reached by paging, every item is readable, one detail parses."""
    try:
        listing = await client.read_listing(page_size=page_size)
    except UpstreamError as error:
        return [_failed("instance paging", error)]
    paging = Check(
        "instance paging",
        Verdict.OK if listing.complete else Verdict.FAIL,
        listing.describe() + ("" if listing.complete else ": the listing is incomplete"),
    )
    unreadable = ", ".join(s.item_id or f"#{s.index}" for s in listing.skipped)
    items = Check(
        "instance items readable",
        Verdict.WARN if listing.skipped else Verdict.OK,
        f"{len(listing.skipped)} unreadable: {unreadable}" if listing.skipped else "all",
    )
    return [paging, items, *await _check_detail(client, listing.instances[:1])]


async def _check_detail(client: NovitaClient, sample: list[UpstreamInstance]) -> list[Check]:
    if not sample:
        return [Check("instance detail", Verdict.OK, "no instance to read (empty account)")]
    instance_id = sample[0].id
    try:
        detail = await client.get_instance(instance_id)
    except UpstreamError as error:
        return [_failed("instance detail", error)]
    ssh = detail.ssh
    where = f"ssh {ssh.user}@{ssh.host}:{ssh.port}" if ssh else "no ssh endpoint (not running)"
    return [Check("instance detail", Verdict.OK, f"{instance_id}: {detail.status}, {where}")]


async def run_checks(client: NovitaClient, page_size: int = DOCTOR_PAGE_SIZE) -> list[Check]:
    """Every check, in order; stops after access when that fails."""
    checks = await check_access(client)
    if any(c.verdict is Verdict.FAIL for c in checks):
        return checks
    return [*checks, *await check_products(client), *await check_instances(client, page_size)]
