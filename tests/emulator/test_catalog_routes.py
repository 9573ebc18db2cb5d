"""Clusters, products, templates and registry auths: shapes and filters."""

from __future__ import annotations

import httpx
import pytest

from novita_gpu.emulator import World

REAL_CLUSTERS = {
    "as-sgp-2": "AS-SGP-02",
    "cn-hongkong-1": "CN-HK-01",
    "us-ca-6": "US-CA-06",
    "us-west-1": "US-WEST-01",
    "eu-de-1": "EU-DE-01",
    "eu-west-1": "EU-WEST-01",
    "oc-au-1": "OC-AU-01",
    "as-in-1": "AS-IN-01",
}


class TestClusters:
    async def test_shape_and_real_ids(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/clusters")
        assert response.status_code == 200
        clusters = response.json()["data"]
        assert {c["id"]: c["name"] for c in clusters} == REAL_CLUSTERS
        for cluster in clusters:
            assert set(cluster) == {
                "id",
                "name",
                "availableGpuType",
                "supportNetworkStorage",
                "supportInstanceNetwork",
            }
            assert isinstance(cluster["supportNetworkStorage"], bool)
        sgp = next(c for c in clusters if c["id"] == "as-sgp-2")
        assert "RTX 4090 24GB" in sgp["availableGpuType"]


class TestProducts:
    async def test_default_world_offers_four_gpus_in_several_regions(
        self, client: httpx.AsyncClient
    ) -> None:
        products = (await client.get("/products")).json()["data"]
        by_name: dict[str, list[dict[str, object]]] = {}
        for product in products:
            by_name.setdefault(str(product["name"]), []).append(product)
        assert {"RTX 4090 24GB", "RTX 3080 12GB", "A100 80GB", "H100 80GB"} <= set(by_name)
        for offers in by_name.values():
            assert len(offers) >= 2
            assert len({o["price"] for o in offers}) == len(offers)

    async def test_item_types(self, client: httpx.AsyncClient) -> None:
        products = (await client.get("/products", params={"productName": "4090"})).json()["data"]
        product = next(p for p in products if p["id"] == "4090.16c62g")
        assert product["regions"] == ["US-CA-06 (California)"]
        assert product["price"] == 35000
        assert product["spotPrice"] == "18000"
        assert product["availableDeploy"] is True
        assert product["billingMethods"] == ["onDemand", "monthly", "spot"]
        assert product["cpuPerGpu"] == 16
        assert product["memoryPerGpu"] == 62
        assert product["minRootFS"] == 10
        assert product["maxRootFS"] == 1000
        assert {"diskPerGpu", "minLocalStorage", "maxLocalStorage", "monthlyPrice"} <= set(product)
        assert all(set(tier) == {"price", "month"} for tier in product["monthlyPrice"])
        assert product["inventoryState"] in ("none", "low", "normal", "high")

    @pytest.mark.parametrize(
        ("params", "expected_ids"),
        [
            pytest.param({"clusterId": "oc-au-1"}, {"a100.22c100g"}, id="cluster"),
            pytest.param(
                {"productName": "h100"},
                {"h100.26c200g", "h100.24c190g", "h100.20c180g"},
                id="name-fuzzy",
            ),
            pytest.param(
                {"productName": "A100", "billingMethod": "spot"},
                {"a100.24c120g", "a100.16c120g"},
                id="spot-only",
            ),
            pytest.param(
                {"productName": "4090", "minCpuPerGpu": "17"}, {"4090.18c60g"}, id="min-cpu"
            ),
            pytest.param(
                {"productName": "3080", "minMemoryPerGpu": "31"}, {"3080.8c32g"}, id="min-mem"
            ),
            pytest.param({"productName": "3080", "minRootFSSize": "301"}, set(), id="min-rootfs"),
        ],
    )
    async def test_filters(
        self, client: httpx.AsyncClient, params: dict[str, str], expected_ids: set[str]
    ) -> None:
        products = (await client.get("/products", params=params)).json()["data"]
        assert {p["id"] for p in products} == expected_ids

    async def test_available_deploy_follows_capacity(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.set_capacity("4090.16c62g", "us-ca-6", 1)
        params = {"productName": "4090", "clusterId": "us-ca-6"}
        [product] = (await client.get("/products", params=params)).json()["data"]
        assert product["availableDeploy"] is True
        assert product["inventoryState"] == "low"
        [product] = (await client.get("/products", params={**params, "gpuNum": "2"})).json()["data"]
        assert product["availableDeploy"] is False
        world.set_capacity("4090.16c62g", "us-ca-6", 0)
        [product] = (await client.get("/products", params=params)).json()["data"]
        assert product["availableDeploy"] is False
        assert product["inventoryState"] == "none"

    @pytest.mark.parametrize(
        "params",
        [{"gpuNum": "9"}, {"gpuNum": "x"}, {"billingMethod": "weekly"}, {"minCpuPerGpu": "-1"}],
    )
    async def test_bad_query_is_validator_param(
        self, client: httpx.AsyncClient, params: dict[str, str]
    ) -> None:
        response = await client.get("/products", params=params)
        assert response.status_code == 400
        assert response.json()["reason"] == "VALIDATOR_PARAM"

    async def test_unknown_query_keys_are_ignored(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/products", params={"region": "x", "page": "3"})
        assert response.status_code == 200
        assert len(response.json()["data"]) == 13


class TestTemplates:
    async def test_channel_and_is_my_community_are_required(
        self, client: httpx.AsyncClient
    ) -> None:
        for params in ({}, {"channel": "official"}, {"isMyCommunity": "false"}):
            response = await client.get("/templates", params=params)
            assert response.status_code == 400
            assert response.json()["reason"] == "VALIDATOR_PARAM"

    async def test_list_uses_singular_key_and_documented_ids(
        self, client: httpx.AsyncClient
    ) -> None:
        params = {"channel": "official", "isMyCommunity": "false"}
        body = (await client.get("/templates", params=params)).json()
        assert set(body) == {"template", "total"}
        ids = {t["Id"] for t in body["template"]}
        assert {"pytorch-jupyter", "tensorflow-jupyter", "pytorch-training", "212"} == ids
        assert body["total"] == 4

    async def test_pagination(self, client: httpx.AsyncClient) -> None:
        params = {"channel": "official,community,private", "isMyCommunity": "false"}
        first = (await client.get("/templates", params={**params, "pageSize": "4"})).json()
        second = (
            await client.get("/templates", params={**params, "pageSize": "4", "pageNum": "1"})
        ).json()
        assert first["total"] == second["total"] == 6
        assert len(first["template"]) == 4
        assert len(second["template"]) == 2

    async def test_get_template_shape(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/template", params={"templateId": "pytorch-jupyter"})
        template = response.json()["template"]
        assert template["Id"] == "pytorch-jupyter"
        assert template["ports"] == [
            {"type": "http", "ports": [8888]},
            {"type": "tcp", "ports": [22]},
        ]
        assert template["tools"][0]["port"] == 8888
        assert isinstance(template["createdAt"], str)
        assert template["createdAt"].isdigit()
        assert isinstance(template["rootfsSize"], int)

    async def test_private_template_references_a_registry_auth(
        self, client: httpx.AsyncClient
    ) -> None:
        params = {"channel": "private", "isMyCommunity": "true"}
        [private] = (await client.get("/templates", params=params)).json()["template"]
        auths = (await client.get("/repository/auths")).json()["data"]
        assert private["imageAuth"] in {a["id"] for a in auths}

    async def test_unknown_template(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/template", params={"templateId": "nope"})
        assert response.status_code == 400
        assert response.json()["reason"] == "TEMPLATE_NOT_FOUND"


class TestRegistryAuths:
    async def test_list_shape(self, client: httpx.AsyncClient) -> None:
        auths = (await client.get("/repository/auths")).json()["data"]
        assert len(auths) == 2
        assert all(set(a) == {"id", "name", "username", "password"} for a in auths)

    async def test_save_returns_empty_object_and_lists_the_new_auth(
        self, client: httpx.AsyncClient
    ) -> None:
        body = {"name": "new", "username": "u", "password": "p"}
        response = await client.post("/repository/auth/save", json=body)
        assert response.json() == {}
        auths = (await client.get("/repository/auths")).json()["data"]
        new = next(a for a in auths if a["name"] == "new")
        assert len(new["id"]) == 32

    async def test_delete_refuses_an_auth_in_use(self, client: httpx.AsyncClient) -> None:
        in_use = {"id": "75irlsvvsehnqdajg2r481mjk54ecodc"}
        response = await client.post("/repository/auth/delete", json=in_use)
        assert response.json()["reason"] == "IMAGE_AUTH_IN_USE"
        unused = {"id": "3f0c2a0e-6a1b-4a37-9d7b-6a3e9c1e5b21"}
        assert (await client.post("/repository/auth/delete", json=unused)).json() == {}
