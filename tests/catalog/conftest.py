"""Fixtures for catalog tests: a :class:`CatalogService` over a real client and the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from novita_gpu.catalog import CatalogService
from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import World, emulator_transport
from novita_gpu.upstream import NovitaClient, UpstreamPolicy
from tests.support.settings import EMULATOR_API_URL

MakeCatalog = Callable[..., CatalogService]
POLICY = UpstreamPolicy(
    timeout_seconds=5.0,
    max_attempts=3,
    retry_sleep=False,
    rate_per_second=10_000,
    burst=10_000,
    breaker_failure_threshold=5,
    breaker_reset_seconds=30,
)


@pytest.fixture
async def upstream(clock: ManualClock, emulator: FastAPI) -> AsyncIterator[NovitaClient]:
    async with httpx.AsyncClient(transport=emulator_transport(emulator)) as http:
        yield NovitaClient(
            http, base_url=EMULATOR_API_URL, api_key="test", policy=POLICY, clock=clock
        )


@pytest.fixture
def make_catalog(upstream: NovitaClient, clock: ManualClock) -> MakeCatalog:
    """``make_catalog(ttl_seconds=300, default_region="")``: no preferred region by default,
    so tests see the pure price order unless they ask for one."""

    def build(*, ttl_seconds: float = 300, default_region: str = "") -> CatalogService:
        return CatalogService(
            upstream, clock, ttl_seconds=ttl_seconds, default_region=default_region
        )

    return build


@pytest.fixture
def catalog(make_catalog: MakeCatalog) -> CatalogService:
    return make_catalog()


def calls(world: World, route: str) -> int:
    """How many times the emulator served ``route`` (``"GET /products"``)."""
    return world.request_counts().get(route, 0)
