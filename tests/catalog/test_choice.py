"""Choosing offers for a create, against the emulator's default world.

RTX 4090 24GB per GPU-hour (spot / on-demand): CN-HK-01 0.16/0.36, US-CA-06 0.18/0.35,
AS-SGP-02 0.19/0.34, EU-DE-01 0.21/0.39. Max root disk 500 GB in CN-HK-01 and EU-DE-01,
1000 GB elsewhere. A100 80GB in OC-AU-01 has no spot price.
"""

from __future__ import annotations

from typing import Any

import pytest

from novita_gpu.catalog import CatalogService, Offer, OfferQuery
from novita_gpu.core.errors import NoAvailableProduct, ProductNotFound, ValidationFailed
from novita_gpu.emulator import World
from tests.catalog.conftest import MakeCatalog

RTX4090 = "RTX 4090 24GB"
CN_HK_4090 = ("4090.16c46g", "cn-hongkong-1")
US_CA_4090 = ("4090.16c62g", "us-ca-6")


def regions_of(offers: list[Offer]) -> list[str]:
    return [offer.region for offer in offers]


async def unavailable(catalog: CatalogService, query: OfferQuery) -> dict[str, Any]:
    with pytest.raises(NoAvailableProduct) as caught:
        await catalog.choose_offers(query)
    details: dict[str, Any] = caught.value.details
    return details


class TestPriceOrder:
    async def test_spot_is_ordered_by_spot_price(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, billing_mode="spot"))

        assert regions_of(offers) == ["CN-HK-01", "US-CA-06", "AS-SGP-02", "EU-DE-01"]
        best = offers[0]
        assert (best.product_id, best.cluster_id) == CN_HK_4090
        assert (best.price_units, best.spot_price_units, best.on_demand_price_units) == (
            16000,
            16000,
            36000,
        )
        assert best.price_per_hour_usd == pytest.approx(0.16)
        assert (best.min_rootfs, best.max_rootfs) == (10, 500)

    async def test_on_demand_is_ordered_by_on_demand_price(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, billing_mode="onDemand"))

        assert regions_of(offers) == ["AS-SGP-02", "US-CA-06", "CN-HK-01", "EU-DE-01"]
        assert [o.price_units for o in offers] == [34000, 35000, 36000, 39000]
        assert {o.billing_mode for o in offers} == {"onDemand"}

    async def test_gpu_num_multiplies_the_hourly_total(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, gpu_num=4))

        assert offers[0].price_units == 16000
        assert offers[0].gpu_num == 4
        assert offers[0].price_per_hour_usd == pytest.approx(0.64)

    async def test_an_entry_without_spot_price_is_skipped_for_spot(
        self, catalog: CatalogService
    ) -> None:
        spot = await catalog.choose_offers(OfferQuery("A100 80GB", billing_mode="spot"))
        on_demand = await catalog.choose_offers(OfferQuery("A100 80GB", billing_mode="onDemand"))

        assert regions_of(spot) == ["US-CA-06", "EU-DE-01"]
        assert "OC-AU-01" in regions_of(on_demand)


class TestRegionPreference:
    async def test_requested_region_goes_first(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, region="EU-DE-01"))

        assert regions_of(offers) == ["EU-DE-01", "CN-HK-01", "US-CA-06", "AS-SGP-02"]

    async def test_default_region_goes_first_when_none_is_requested(
        self, make_catalog: MakeCatalog
    ) -> None:
        catalog = make_catalog(default_region="US-CA-06")

        offers = await catalog.choose_offers(OfferQuery(RTX4090))

        assert regions_of(offers)[:2] == ["US-CA-06", "CN-HK-01"]

    async def test_full_requested_region_falls_back_to_the_next_by_price(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.set_capacity(*US_CA_4090, 0)

        offers = await catalog.choose_offers(OfferQuery(RTX4090, region="US-CA-06"))

        assert regions_of(offers) == ["CN-HK-01", "AS-SGP-02", "EU-DE-01"]

    async def test_capacity_below_gpu_num_counts_as_full(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.set_capacity(*CN_HK_4090, 4)

        few = await catalog.choose_offers(OfferQuery(RTX4090, gpu_num=4))
        many = await catalog.choose_offers(OfferQuery(RTX4090, gpu_num=8))

        assert regions_of(few)[0] == "CN-HK-01"
        assert "CN-HK-01" not in regions_of(many)

    async def test_regions_restrict_and_order_the_choice(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, regions=["EU-DE-01", "US-CA-06"]))

        assert regions_of(offers) == ["EU-DE-01", "US-CA-06"]

    async def test_region_inside_regions_goes_first(self, catalog: CatalogService) -> None:
        query = OfferQuery(RTX4090, region="US-CA-06", regions=["EU-DE-01", "US-CA-06"])

        assert regions_of(await catalog.choose_offers(query)) == ["US-CA-06", "EU-DE-01"]

    async def test_default_region_outside_regions_is_ignored(
        self, make_catalog: MakeCatalog
    ) -> None:
        catalog = make_catalog(default_region="CN-HK-01")
        query = OfferQuery(RTX4090, region="CN-HK-01", regions=["EU-DE-01", "US-CA-06"])

        assert regions_of(await catalog.choose_offers(query)) == ["EU-DE-01", "US-CA-06"]

    async def test_regions_accept_any_case_and_cluster_ids(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, regions=["eu-de-01", "us-ca-6"]))

        assert regions_of(offers) == ["EU-DE-01", "US-CA-06"]

    @pytest.mark.parametrize(
        ("region", "regions", "field"),
        [
            pytest.param("XX-01", None, "region", id="unknown-region"),
            pytest.param(None, ["US-CA-06", "MARS-01"], "regions[1]", id="unknown-in-regions"),
            pytest.param("AS-SGP-02", ["US-CA-06"], "region", id="region-outside-regions"),
        ],
    )
    async def test_bad_regions_are_validation_errors(
        self, catalog: CatalogService, region: str | None, regions: list[str] | None, field: str
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await catalog.choose_offers(OfferQuery(RTX4090, region=region, regions=regions))

        assert caught.value.details[0]["field"] == field

    async def test_unknown_default_region_is_ignored(self, make_catalog: MakeCatalog) -> None:
        catalog = make_catalog(default_region="NOWHERE-01")

        offers = await catalog.choose_offers(OfferQuery(RTX4090, region="NOWHERE-01"))

        assert regions_of(offers)[0] == "CN-HK-01"


class TestLimits:
    async def test_offers_above_max_price_are_skipped(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, max_price_per_hour=0.19))

        assert regions_of(offers) == ["CN-HK-01", "US-CA-06", "AS-SGP-02"]

    async def test_max_price_applies_to_the_total_for_all_gpus(
        self, catalog: CatalogService
    ) -> None:
        query = OfferQuery(RTX4090, gpu_num=2, max_price_per_hour=0.36)

        assert regions_of(await catalog.choose_offers(query)) == ["CN-HK-01", "US-CA-06"]

    async def test_rootfs_outside_product_bounds_is_skipped(self, catalog: CatalogService) -> None:
        offers = await catalog.choose_offers(OfferQuery(RTX4090, rootfs_size=800))

        assert regions_of(offers) == ["US-CA-06", "AS-SGP-02"]

    async def test_gpu_num_outside_one_to_eight_is_rejected(self, catalog: CatalogService) -> None:
        with pytest.raises(ValidationFailed):
            await catalog.choose_offers(OfferQuery(RTX4090, gpu_num=9))


class TestNoAvailableProduct:
    async def test_every_region_considered_has_a_reason(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.set_capacity(*CN_HK_4090, 0)

        details = await unavailable(catalog, OfferQuery(RTX4090, max_price_per_hour=0.17))

        assert details["productName"] == RTX4090
        assert details["billingMode"] == "spot"
        reasons = {row["region"]: row["reason"] for row in details["regions"]}
        assert reasons == {
            "CN-HK-01": "no capacity",
            "US-CA-06": "price 0.18 above maxPricePerHour 0.17",
            "AS-SGP-02": "price 0.19 above maxPricePerHour 0.17",
            "EU-DE-01": "price 0.21 above maxPricePerHour 0.17",
        }

    async def test_requested_regions_without_the_product_are_not_offered(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.set_capacity(*US_CA_4090, 0)

        details = await unavailable(catalog, OfferQuery(RTX4090, regions=["OC-AU-01", "US-CA-06"]))

        assert [(r["region"], r["reason"]) for r in details["regions"]] == [
            ("OC-AU-01", "not offered"),
            ("US-CA-06", "no capacity"),
        ]

    async def test_missing_billing_mode_and_rootfs_are_explained(
        self, catalog: CatalogService
    ) -> None:
        spot = await unavailable(catalog, OfferQuery("A100 80GB", regions=["OC-AU-01"]))
        disk = await unavailable(catalog, OfferQuery(RTX4090, rootfs_size=5000))

        assert spot["regions"][0]["reason"] == "not offered for spot billing"
        assert {r["reason"] for r in disk["regions"]} == {
            "rootfsSize 5000 outside product bounds 10-500",
            "rootfsSize 5000 outside product bounds 10-1000",
        }


class TestProductNames:
    @pytest.mark.parametrize(
        "name",
        [
            pytest.param("rtx 4090 24gb", id="case-insensitive"),
            pytest.param("  RTX  4090   24GB ", id="whitespace"),
            pytest.param("4090", id="unique-substring"),
        ],
    )
    async def test_names_match_leniently(self, catalog: CatalogService, name: str) -> None:
        offers = await catalog.choose_offers(OfferQuery(name))

        assert {o.product_name for o in offers} == {RTX4090}

    async def test_exact_name_wins_over_substring_matches(
        self, catalog: CatalogService, world: World
    ) -> None:
        world.upsert_products(
            [
                {
                    "id": "4090ti.16c62g",
                    "name": "RTX 4090 24GB Ti",
                    "cpuPerGpu": 16,
                    "memoryPerGpu": 62,
                    "clusterIds": ["us-ca-6"],
                    "price": 10,
                    "spotPrice": 5,
                }
            ]
        )

        offers = await catalog.choose_offers(OfferQuery(RTX4090))

        assert {o.product_name for o in offers} == {RTX4090}

    async def test_ambiguous_substring_is_a_validation_error(self, catalog: CatalogService) -> None:
        with pytest.raises(ValidationFailed, match="A100 80GB, H100 80GB"):
            await catalog.choose_offers(OfferQuery("80GB"))

    async def test_unknown_product_is_not_found(self, catalog: CatalogService) -> None:
        with pytest.raises(ProductNotFound) as caught:
            await catalog.choose_offers(OfferQuery("RTX 9090"))

        assert RTX4090 in caught.value.details["knownProducts"]
