"""The TTL cache on its own, and the catalog's use of it against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from novita_gpu.catalog import CacheStats, CatalogService, OfferQuery, TtlCache
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.errors import UpstreamUnavailable
from novita_gpu.emulator import World
from tests.catalog.conftest import MakeCatalog, calls


class Loader:
    """A load function that counts calls and, when ``gate`` is set, waits for it."""

    def __init__(self, value: str = "v", *, gate: asyncio.Event | None = None) -> None:
        self.value = value
        self.gate = gate
        self.calls = 0
        self.error: Exception | None = None

    async def __call__(self) -> str:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return f"{self.value}{self.calls}"


def make_cache(clock: ManualClock, ttl: float = 10) -> TtlCache[str, str]:
    return TtlCache("things", clock, ttl_seconds=ttl)


async def started(
    load: Callable[[], Awaitable[str]], cache: TtlCache[str, str]
) -> asyncio.Task[str]:
    task = asyncio.create_task(cache.get("k", load))
    await asyncio.sleep(0)
    return task


class TestTtlCache:
    async def test_a_stored_value_is_served_until_it_expires(self, clock: ManualClock) -> None:
        cache, load = make_cache(clock), Loader()

        first = await cache.get("k", load)
        clock.advance(9.9)
        second = await cache.get("k", load)
        clock.advance(0.1)
        third = await cache.get("k", load)

        assert (first, second, third) == ("v1", "v1", "v2")
        assert cache.stats() == CacheStats("things", entries=1, hits=1, misses=2, coalesced=0)

    async def test_ttl_zero_stores_nothing(self, clock: ManualClock) -> None:
        cache, load = make_cache(clock, ttl=0), Loader()

        assert [await cache.get("k", load) for _ in range(3)] == ["v1", "v2", "v3"]
        assert cache.stats().entries == 0

    async def test_concurrent_misses_share_one_load(self, clock: ManualClock) -> None:
        cache, gate = make_cache(clock), asyncio.Event()
        load = Loader(gate=gate)

        waiting = asyncio.gather(*(cache.get("k", load) for _ in range(10)))
        await asyncio.sleep(0)
        gate.set()

        assert await waiting == ["v1"] * 10
        assert load.calls == 1
        assert cache.stats() == CacheStats("things", entries=1, hits=0, misses=1, coalesced=9)

    async def test_a_failed_load_reaches_every_waiter_and_is_not_stored(
        self, clock: ManualClock
    ) -> None:
        cache, gate = make_cache(clock), asyncio.Event()
        load = Loader(gate=gate)
        load.error = RuntimeError("upstream down")

        waiting = asyncio.gather(*(cache.get("k", load) for _ in range(3)), return_exceptions=True)
        await asyncio.sleep(0)
        gate.set()
        results = await waiting
        load.error = None

        assert [str(r) for r in results] == ["upstream down"] * 3
        assert await cache.get("k", load) == "v2"

    async def test_a_cancelled_caller_does_not_cancel_the_shared_load(
        self, clock: ManualClock
    ) -> None:
        cache, gate = make_cache(clock), asyncio.Event()
        load = Loader(gate=gate)
        first = await started(load, cache)
        second = await started(load, cache)

        first.cancel()
        gate.set()

        assert await second == "v1"
        with pytest.raises(asyncio.CancelledError):
            await first

    async def test_clear_drops_entries_and_a_load_under_way(self, clock: ManualClock) -> None:
        cache, gate = make_cache(clock), asyncio.Event()
        await cache.get("other", Loader("o"))
        load = Loader(gate=gate)
        pending = await started(load, cache)

        assert cache.clear() == 1
        gate.set()

        assert await pending == "v1"
        assert cache.stats().entries == 0

    async def test_the_oldest_entry_is_evicted_beyond_max_entries(self, clock: ManualClock) -> None:
        cache: TtlCache[str, str] = TtlCache("small", clock, ttl_seconds=10, max_entries=2)
        for key in ("a", "b", "c"):
            await cache.get(key, Loader(key))

        load = Loader("again")
        assert await cache.get("a", load) == "again1"
        assert await cache.get("c", load) == "c1"

    def test_negative_ttl_is_refused(self, clock: ManualClock) -> None:
        with pytest.raises(ValueError, match="ttl_seconds"):
            make_cache(clock, ttl=-1)


QUERY = OfferQuery("RTX 4090 24GB")
MODES = 2
"""Products are asked once per billing mode (``billingMethod=onDemand`` and ``spot``)."""


class TestCatalogCaching:
    async def test_one_products_call_per_billing_mode_covers_every_region(
        self, catalog: CatalogService, world: World
    ) -> None:
        await catalog.choose_offers(QUERY)
        await catalog.choose_offers(OfferQuery("A100 80GB", billing_mode="onDemand"))
        await catalog.product_offers()

        assert calls(world, "GET /products") == 2  # billingMethod=onDemand, then spot
        assert calls(world, "GET /clusters") == 1
        products = catalog.stats()["caches"]["products"]
        assert (products["misses"], products["hits"]) == (2, 4)

    async def test_entries_expire_after_the_ttl(
        self, catalog: CatalogService, world: World, clock: ManualClock
    ) -> None:
        await catalog.choose_offers(QUERY)
        clock.advance(299)
        await catalog.choose_offers(QUERY)
        clock.advance(1)
        await catalog.choose_offers(QUERY)

        assert calls(world, "GET /products") == 2 * MODES

    async def test_ten_concurrent_lookups_make_one_upstream_call(
        self, catalog: CatalogService, world: World
    ) -> None:
        results = await asyncio.gather(*(catalog.choose_offers(QUERY) for _ in range(10)))

        assert all(offers == results[0] for offers in results)
        assert calls(world, "GET /products") == MODES
        assert calls(world, "GET /clusters") == 1
        assert catalog.stats()["caches"]["products"]["coalesced"] == 9 * MODES

    async def test_ttl_zero_goes_upstream_every_time(
        self, make_catalog: MakeCatalog, world: World
    ) -> None:
        catalog = make_catalog(ttl_seconds=0)

        await catalog.choose_offers(QUERY)
        await catalog.choose_offers(QUERY)

        assert calls(world, "GET /products") == 2 * MODES

    async def test_clear_empties_only_catalog_caches(
        self, catalog: CatalogService, world: World
    ) -> None:
        await catalog.choose_offers(QUERY)
        await catalog.get_template("pytorch-jupyter")

        cleared = catalog.clear()
        await catalog.choose_offers(QUERY)

        assert cleared == {
            "cleared": {"products": MODES, "clusters": 1, "templates": 1},
            "total": MODES + 2,
        }
        assert calls(world, "GET /products") == 2 * MODES

    async def test_a_failed_fetch_is_not_cached(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.add_fault("error", "/products", status=503, count=3)

        with pytest.raises(UpstreamUnavailable):
            await catalog.choose_offers(QUERY)
        offers = await catalog.choose_offers(QUERY)

        assert offers[0].region == "CN-HK-01"
        assert calls(world, "GET /products") == 3 + MODES  # 3 refused, then one per mode

    async def test_capacity_changes_show_after_a_clear(
        self, catalog: CatalogService, world: World
    ) -> None:
        await catalog.choose_offers(QUERY)
        world.set_capacity("4090.16c46g", "cn-hongkong-1", 0)

        cached = await catalog.choose_offers(QUERY)
        catalog.clear()
        fresh = await catalog.choose_offers(QUERY)

        assert cached[0].region == "CN-HK-01"
        assert fresh[0].region == "US-CA-06"
