"""POST /api/instances: validation, product choice, idempotency, lost answers, conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import body, create, settle, upstream_creates

CREATE_RESPONSE_FIELDS = {
    "instanceId",
    "novitaInstanceId",
    "status",
    "message",
    "productId",
    "productName",
    "region",
    "spotPrice",
    "price",
    "estimatedReadyTime",
    "instance",
}
INSTANCE_FIELDS = {
    "id",
    "name",
    "status",
    "upstreamStatus",
    "novitaInstanceId",
    "productId",
    "productName",
    "region",
    "clusterId",
    "gpuNum",
    "rootfsSize",
    "billingMode",
    "templateId",
    "imageUrl",
    "pricePerHour",
    "portMappings",
    "connectionDetails",
    "healthCheck",
    "autoStop",
    "spot",
    "lastUsedAt",
    "createdAt",
    "startedAt",
    "readyAt",
    "stoppedAt",
    "deletedAt",
    "lastError",
    "runtimeSeconds",
    "estimatedCostUsd",
    "source",
}


def upstream_named(api: Api, name: str) -> list[Any]:
    return [i for i in api.world.instances() if i.name == name and i.status.value != "removed"]


class TestCreateResponse:
    async def test_has_every_documented_field(self, api: Api) -> None:
        created = await create(api)
        assert created.keys() >= CREATE_RESPONSE_FIELDS
        assert created["instance"].keys() >= INSTANCE_FIELDS
        assert created["status"] == "creating"
        assert created["instanceId"].startswith("inst_")
        assert created["novitaInstanceId"]
        assert set(created["instance"]["connectionDetails"]) >= {"ssh", "endpoints"}

    async def test_cheapest_spot_offer_in_default_region_first(self, api: Api) -> None:
        created = await create(api, region="US-CA-06")
        assert created["region"] == "US-CA-06"
        assert created["instance"]["billingMode"] == "spot"
        assert created["spotPrice"] == pytest.approx(0.18)

    async def test_without_region_uses_default_region(self, api: Api) -> None:
        created = await create(api)
        assert created["region"] == api.ctx.settings.default_region

    async def test_numeric_strings_accepted_like_the_original(self, api: Api) -> None:
        created = await create(api, gpuNum="2")
        assert created["instance"]["gpuNum"] == 2
        assert created["price"] == pytest.approx(2 * 0.16)


class TestRegionFallback:
    async def test_requested_region_full_uses_next_cheapest(self, api: Api) -> None:
        api.world.set_capacity("4090.16c46g", "cn-hongkong-1", 0)
        api.world.reset_request_counts()
        created = await create(api, region="CN-HK-01")
        assert created["region"] == "US-CA-06"  # next by spot price: 0.18 < 0.19 < 0.21
        assert api.world.request_counts().get("GET /products", 0) == 2  # one per billing mode

    async def test_create_refused_for_capacity_moves_to_next_region(self, api: Api) -> None:
        api.world.add_fault(
            "error", "/gpu/instance/create", count=1, status=400, reason="INSUFFICIENT_RESOURCE"
        )
        created = await create(api, region="CN-HK-01")
        assert created["region"] != "CN-HK-01"
        assert len(upstream_named(api, "job-1")) == 1

    async def test_every_region_full_is_422_with_reasons(self, api: Api) -> None:
        response = await api.client.post(
            "/api/instances", json=body(productName="H100 80GB", maxPricePerHour=0.01)
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "NO_AVAILABLE_PRODUCT"
        assert error["details"]["regions"]
        assert all(region["reason"] for region in error["details"]["regions"])


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            pytest.param({"name": "has space"}, "name", id="bad-name"),
            pytest.param({"gpuNum": 9}, "gpuNum", id="too-many-gpus"),
            pytest.param({"rootfsSize": 5}, "rootfsSize", id="tiny-disk"),
            pytest.param({"billingMode": "monthly"}, "billingMode", id="billing"),
            pytest.param({"region": "mars"}, "region", id="region"),
            pytest.param({"webhookUrl": "not a url"}, "webhookUrl", id="webhook"),
            pytest.param({"nmae": "typo"}, "nmae", id="unknown-field"),
        ],
    )
    async def test_bad_field_is_400_naming_it(
        self, api: Api, overrides: dict[str, Any], field: str
    ) -> None:
        response = await api.client.post("/api/instances", json=body(**overrides))
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert field in [detail["field"] for detail in error["details"]]
        assert upstream_creates(api) == 0

    async def test_malformed_json(self, api: Api) -> None:
        response = await api.client.post(
            "/api/instances", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_JSON"

    async def test_unknown_template_is_404(self, api: Api) -> None:
        response = await api.client.post("/api/instances", json=body(templateId="999999"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "TEMPLATE_NOT_FOUND"


class TestNames:
    async def test_taken_name_is_409(self, api: Api) -> None:
        await create(api, "dup")
        response = await api.client.post("/api/instances", json=body("dup"))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "NAME_TAKEN"
        assert len(upstream_named(api, "dup")) == 1

    async def test_name_is_held_while_deleting_and_free_once_deleted(
        self, api: Api, runner: Runner
    ) -> None:
        first = await create(api, "again")
        await api.client.delete(f"/api/instances/{first['instanceId']}")
        held = await api.client.post("/api/instances", json=body("again"))
        assert held.status_code == 409
        await settle(api, runner)
        second = await create(api, "again")
        assert second["instanceId"] != first["instanceId"]


class TestIdempotency:
    async def test_same_key_same_body_replays_first_response(self, api: Api) -> None:
        headers = {"Idempotency-Key": "key-1"}
        first = await api.client.post("/api/instances", json=body(), headers=headers)
        second = await api.client.post("/api/instances", json=body(), headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.json()["instanceId"] == first.json()["instanceId"]
        assert upstream_creates(api) == 1

    async def test_same_key_other_body_is_409(self, api: Api) -> None:
        headers = {"Idempotency-Key": "key-2"}
        await api.client.post("/api/instances", json=body(), headers=headers)
        response = await api.client.post("/api/instances", json=body(gpuNum=2), headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    async def test_refusal_is_replayed_too(self, api: Api) -> None:
        api.world.add_fault("error", "/gpu/instance/create", status=400, reason="VALIDATOR_PARAM")
        headers = {"Idempotency-Key": "key-3"}
        first = await api.client.post("/api/instances", json=body(), headers=headers)
        second = await api.client.post("/api/instances", json=body(), headers=headers)
        assert first.status_code == second.status_code
        assert second.json()["error"]["code"] == first.json()["error"]["code"]
        assert upstream_creates(api) == 1


class TestLostAnswer:
    async def test_lost_response_is_found_by_name(self, api: Api) -> None:
        api.world.add_fault("lost_response", "/gpu/instance/create", count=1)
        created = await create(api, "lost")
        assert created["novitaInstanceId"]
        assert len(upstream_named(api, "lost")) == 1
        assert upstream_creates(api) == 1

    async def test_unresolved_lost_response_is_finished_by_recovery(
        self, api: Api, runner: Runner
    ) -> None:
        api.world.add_fault("lost_response", "/gpu/instance/create", count=1)
        api.world.add_fault("error", "/gpu/instances", count=3, status=503)
        created = await create(api, "lost-2")
        assert created["novitaInstanceId"] is None
        await settle(api, runner, 90)
        await runner.run_once("create_recovery")
        instance = (await api.client.get(f"/api/instances/{created['instanceId']}")).json()
        assert instance["novitaInstanceId"] == upstream_named(api, "lost-2")[0].id
        assert len(upstream_named(api, "lost-2")) == 1
        assert upstream_creates(api) == 1

    async def test_definite_refusal_fails_and_frees_the_name(self, api: Api) -> None:
        api.world.add_fault("error", "/gpu/instance/create", status=400, reason="VALIDATOR_PARAM")
        response = await api.client.post("/api/instances", json=body("refused"))
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "UPSTREAM_ERROR"
        listing = (await api.client.get("/api/instances")).json()
        assert listing["total"] == 0
        api.world.clear_faults()
        await create(api, "refused")


class TestSpendLimit:
    async def test_create_over_limit_is_422(self, api: Api) -> None:
        api.ctx.settings.spend_limit_usd_per_hour = 0.2
        await create(api, "first", region="US-CA-06")
        response = await api.client.post("/api/instances", json=body("second"))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "SPEND_LIMIT_EXCEEDED"
