"""The catalog routes, served by the app in-process against the emulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.conftest import calls
from tests.conftest import Api

SECRET = "emulator-registry-secret"


async def ok(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    response = await client.request(method, url, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


class TestProducts:
    async def test_offers_are_listed_cheapest_usable_first(self, api: Api) -> None:
        api.world.set_capacity("4090.18c60g", "as-sgp-2", 0)
        params = {"productName": "RTX 4090 24GB", "billingMode": "onDemand"}

        body = await ok(api.client, "GET", "/api/products", params=params)

        rows = [(p["region"], p["pricePerHour"], p["available"]) for p in body["products"]]
        assert rows == [
            ("US-CA-06", 0.35, True),
            ("CN-HK-01", 0.36, True),
            ("EU-DE-01", 0.39, True),
            ("AS-SGP-02", 0.34, False),
        ]
        assert body["total"] == 4
        full = body["products"][-1]
        assert (full["reason"], full["inventoryState"]) == ("no capacity", "none")

    async def test_one_row_has_every_price_and_the_cluster(self, api: Api) -> None:
        body = await ok(api.client, "GET", "/api/products", params={"productName": "4090"})

        assert body["products"][0] == {
            "productId": "4090.16c46g",
            "productName": "RTX 4090 24GB",
            "region": "CN-HK-01",
            "clusterId": "cn-hongkong-1",
            "billingMode": "spot",
            "pricePerHour": 0.16,
            "spotPrice": 0.16,
            "onDemandPrice": 0.36,
            "available": True,
            "reason": None,
            "inventoryState": "normal",
            "cpuPerGpu": 16,
            "memoryPerGpu": 46,
            "minRootfs": 10,
            "maxRootfs": 500,
        }

    async def test_without_filters_every_offer_is_listed(self, api: Api) -> None:
        body = await ok(api.client, "GET", "/api/products")

        assert body["total"] == 13
        unavailable = [p for p in body["products"] if not p["available"]]
        assert {(p["productName"], p["region"]) for p in unavailable} == {
            ("A100 80GB", "OC-AU-01"),
            ("H100 80GB", "EU-WEST-01"),
        }
        assert body["products"][-1]["reason"] == "not offered for spot billing"

    async def test_region_narrows_the_list(self, api: Api) -> None:
        body = await ok(api.client, "GET", "/api/products", params={"region": "us-ca-06"})

        assert {(p["productName"], p["region"]) for p in body["products"]} == {
            ("RTX 4090 24GB", "US-CA-06"),
            ("A100 80GB", "US-CA-06"),
        }

    async def test_an_unmatched_name_lists_nothing(self, api: Api) -> None:
        body = await ok(api.client, "GET", "/api/products", params={"productName": "RTX 9090"})

        assert body == {"products": [], "total": 0}

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            pytest.param({"billingMode": "monthly"}, "billingMode", id="billing-mode"),
            pytest.param({"region": "XX-01"}, "region", id="region"),
        ],
    )
    async def test_bad_filters_are_validation_errors(
        self, api: Api, params: dict[str, str], field: str
    ) -> None:
        response = await api.client.get("/api/products", params=params)

        error = error_of(response, 400)
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"][0]["field"] == field


class TestTemplates:
    async def test_a_template_shows_flattened_ports(self, api: Api) -> None:
        body = await ok(api.client, "GET", "/api/templates/pytorch-jupyter")

        assert body["ports"] == [{"port": 8888, "type": "http"}, {"port": 22, "type": "tcp"}]
        assert body["tools"] == [{"name": "Jupyter", "port": 8888, "type": "http"}]
        assert body["hasImageAuth"] is False
        assert body["rootfsSize"] == 60

    async def test_a_private_template_shows_only_that_it_has_image_auth(self, api: Api) -> None:
        response = await api.client.get("/api/templates/108001")

        assert response.json()["hasImageAuth"] is True
        assert "75irlsvvsehnqdajg2r481mjk54ecodc" not in response.text
        assert SECRET not in response.text

    async def test_unknown_template_is_404(self, api: Api) -> None:
        response = await api.client.get("/api/templates/does-not-exist")

        error = error_of(response, 404)
        assert error["code"] == "TEMPLATE_NOT_FOUND"
        assert error["details"] == {"templateId": "does-not-exist"}
        assert error["requestId"] == response.headers["X-Request-ID"]


class TestRegions:
    async def test_regions_list_every_cluster(self, api: Api) -> None:
        body = await ok(api.client, "GET", "/api/regions")

        regions = {r["code"]: r for r in body["regions"]}
        assert len(regions) == 8
        assert regions["CN-HK-01"] == {
            "code": "CN-HK-01",
            "clusterId": "cn-hongkong-1",
            "city": "Hong Kong",
            "availableGpuTypes": ["RTX 4090 24GB"],
            "supportNetworkStorage": True,
            "supportInstanceNetwork": False,
            "isDefault": True,
        }


class TestCacheRoutes:
    async def test_stats_count_hits_and_clear_forces_a_refetch(self, api: Api) -> None:
        await ok(api.client, "GET", "/api/products")
        await ok(api.client, "GET", "/api/products")
        stats = await ok(api.client, "GET", "/api/cache/stats")

        cleared = await ok(api.client, "POST", "/api/cache/clear")
        await ok(api.client, "GET", "/api/products")

        assert stats["ttlSeconds"] == 300
        # one cached answer per billing mode (billingMethod=onDemand and spot)
        assert stats["caches"]["products"] == {"entries": 2, "hits": 2, "misses": 2, "coalesced": 0}
        assert cleared == {"cleared": {"products": 2, "clusters": 1, "templates": 0}, "total": 3}
        assert calls(api.world, "GET /products") == 4


class TestUpstreamFailures:
    async def test_upstream_5xx_is_503_until_the_breaker_opens(self, api: Api) -> None:
        api.world.add_fault("error", "/products", status=500)

        first = await api.client.get("/api/products")
        await api.client.get("/api/products")
        third = await api.client.get("/api/products")

        assert error_of(first, 503)["code"] == "UPSTREAM_UNAVAILABLE"
        assert first.headers["Retry-After"] == "5"
        assert error_of(first, 503)["details"]["status"] == 500
        assert error_of(third, 503)["code"] == "UPSTREAM_UNAVAILABLE"
        assert third.headers["Retry-After"] == "30"
        assert api.ctx.upstream.breaker_state == "open"

    async def test_a_refused_key_is_502_upstream_auth_failed_naming_the_setting(
        self, api: Api
    ) -> None:
        api.world.add_fault("error", "/clusters", status=403, reason="FORBIDDEN", message="no")

        response = await api.client.get("/api/regions")

        error = error_of(response, 502)
        assert error["code"] == "UPSTREAM_AUTH_FAILED"
        assert "NOVITA_API_KEY" in error["message"]
        assert error["details"] == {
            "endpoint": "GET /clusters",
            "status": 403,
            "reason": "FORBIDDEN",
            "message": "no",
        }


async def test_no_catalog_route_reveals_registry_credentials(api: Api) -> None:
    urls = ["/api/products", "/api/regions", "/api/cache/stats", "/api/templates/108001"]
    await api.ctx.catalog.registry_credentials("75irlsvvsehnqdajg2r481mjk54ecodc")

    bodies = [(await api.client.get(url)).text for url in urls]

    assert all(SECRET not in body and "team-bot" not in body for body in bodies)


async def test_openapi_documents_the_catalog_routes(api: Api) -> None:
    spec = await ok(api.client, "GET", "/openapi.json")

    paths = spec["paths"]
    assert {"/api/products", "/api/templates/{templateId}", "/api/regions"} <= set(paths)
    assert {"/api/cache/stats", "/api/cache/clear"} <= set(paths)
    template = paths["/api/templates/{templateId}"]["get"]
    assert template["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert "ProductsOut" in spec["components"]["schemas"]
