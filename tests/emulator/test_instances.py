"""Instance routes: shapes, list paging, validation, state rules, lifecycle timing, capacity."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import EmulatorConfig, World, create_emulator_app, emulator_transport
from tests.emulator.conftest import AUTH
from tests.emulator.helpers import create, create_body, get, running, status_of

SSH = re.compile(r"^ssh root@proxy\.([a-z0-9-]+)\.gpu-instance\.novita\.ai -p (\d+)$")


class TestCreate:
    async def test_returns_sixteen_hex_id_and_starts_in_to_create(
        self, client: httpx.AsyncClient
    ) -> None:
        instance_id = await create(client)
        assert re.fullmatch(r"[0-9a-f]{16}", instance_id)
        assert await status_of(client, instance_id) == "toCreate"

    async def test_kind_defaults_to_gpu_and_unknown_keys_are_ignored(
        self, client: httpx.AsyncClient
    ) -> None:
        body = create_body(env=[{"k": "v"}], region="x")
        del body["kind"]
        response = await client.post("/gpu/instance/create", json=body)
        assert (await get(client, response.json()["id"]))["kind"] == "gpu"

    async def test_rootfs_under_ten_is_raised_to_ten(self, client: httpx.AsyncClient) -> None:
        instance_id = await create(client, rootfsSize=3)
        assert (await get(client, instance_id))["rootfsSize"] == 10

    async def test_image_auth_id_must_exist(self, client: httpx.AsyncClient) -> None:
        ok = await create(client, imageAuthId="75irlsvvsehnqdajg2r481mjk54ecodc")
        assert (await get(client, ok))["imageAuthId"] == "75irlsvvsehnqdajg2r481mjk54ecodc"
        response = await client.post(
            "/gpu/instance/create", json=create_body(imageAuthId="missing")
        )
        assert response.json()["reason"] == "VALIDATOR_PARAM"

    async def test_image_auth_credentials_accepted(self, client: httpx.AsyncClient) -> None:
        await create(client, imageAuth="user:pass")

    async def test_cluster_is_honoured(self, client: httpx.AsyncClient) -> None:
        instance_id = await create(client, productId="a100.24c120g", clusterId="us-ca-6")
        assert (await get(client, instance_id))["clusterId"] == "us-ca-6"


def _limit_cases() -> list[Any]:
    long = "x" * 2048
    return [
        pytest.param({"gpuNum": 0}, id="gpuNum-0"),
        pytest.param({"gpuNum": 9}, id="gpuNum-9"),
        pytest.param({"gpuNum": "1"}, id="gpuNum-string"),
        pytest.param({"rootfsSize": 6145}, id="rootfs-over-6144"),
        pytest.param({"rootfsSize": 1001}, id="rootfs-over-product-max"),
        pytest.param({"name": "n" * 256}, id="name-256"),
        pytest.param({"imageUrl": ""}, id="imageUrl-empty"),
        pytest.param({"imageUrl": "i" * 501}, id="imageUrl-501"),
        pytest.param({"ports": "2222/tcp"}, id="port-reserved"),
        pytest.param({"ports": "0/http"}, id="port-zero"),
        pytest.param({"ports": "65536/http"}, id="port-too-big"),
        pytest.param({"ports": "80/udp"}, id="port-type"),
        pytest.param({"ports": "80"}, id="port-no-type"),
        pytest.param({"ports": ",".join(f"{p}/tcp" for p in range(1000, 1016))}, id="16-ports"),
        pytest.param(
            {
                "ports": ",".join(f"{p}/tcp" for p in range(1000, 1014)),
                "tools": [
                    {"name": "Jupyter", "port": "8888", "type": "http"},
                    {"name": "b", "port": "9000"},
                ],
            },
            id="ports-plus-tools-16",
        ),
        pytest.param({"envs": [{"key": str(i), "value": ""} for i in range(101)]}, id="101-envs"),
        pytest.param({"envs": [{"key": "k" * 512, "value": ""}]}, id="env-key-512"),
        pytest.param({"envs": [{"key": "k", "value": "v" * 4096}]}, id="env-value-4096"),
        pytest.param({"command": long}, id="command-2048"),
        pytest.param({"entrypoint": long}, id="entrypoint-2048"),
        pytest.param({"billingMode": "weekly"}, id="billing-mode"),
        pytest.param({"productId": "nope"}, id="unknown-product"),
        pytest.param({"productId": None}, id="missing-product"),
        pytest.param({"kind": "tpu"}, id="kind"),
        pytest.param({"clusterId": "eu-de-1"}, id="cluster-not-offered"),
        pytest.param({"imageAuth": "no-colon"}, id="image-auth-format"),
        pytest.param({"networkStorages": [{"Id": str(i)} for i in range(31)]}, id="31-storages"),
    ]


class TestValidation:
    @pytest.mark.parametrize("overrides", _limit_cases())
    async def test_limits(self, client: httpx.AsyncClient, overrides: dict[str, Any]) -> None:
        body = {k: v for k, v in create_body(**overrides).items() if v is not None}
        response = await client.post("/gpu/instance/create", json=body)
        assert response.status_code == 400
        error = response.json()
        assert error["reason"] == "VALIDATOR_PARAM"
        assert set(error) == {"code", "reason", "message", "metadata"}
        assert error["code"] == 400

    @pytest.mark.parametrize(
        "overrides",
        [
            pytest.param({"gpuNum": 8, "productId": "4090.16c62g"}, id="gpuNum-8"),
            pytest.param({"rootfsSize": 1000}, id="rootfs-product-max"),
            pytest.param({"name": "n" * 255, "imageUrl": "i" * 500}, id="name-255-image-500"),
            pytest.param({"ports": "8888/http, 22/tcp, 2225/tcp, 65535/http"}, id="ports-spaces"),
            pytest.param({"ports": ",".join(f"{p}/tcp" for p in range(1000, 1015))}, id="15-ports"),
            pytest.param({"envs": [{"key": "k" * 511, "value": "v" * 4095}] * 100}, id="100-envs"),
            pytest.param({"command": "c" * 2047, "entrypoint": "e" * 2047}, id="command-2047"),
            pytest.param({"billingMode": "spot"}, id="spot"),
            pytest.param({"billingMode": "monthly"}, id="monthly"),
        ],
    )
    async def test_boundaries_accepted(
        self, client: httpx.AsyncClient, overrides: dict[str, Any]
    ) -> None:
        response = await client.post("/gpu/instance/create", json=create_body(**overrides))
        assert response.status_code == 200, response.text

    async def test_billing_mode_the_product_lacks(self, client: httpx.AsyncClient) -> None:
        body = create_body(productId="a100.22c100g", billingMode="spot")
        response = await client.post("/gpu/instance/create", json=body)
        assert response.json()["reason"] == "UNSUPPORTED_BILLING_MODE"

    async def test_malformed_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/gpu/instance/create", content=b"{not json")
        assert response.status_code == 400
        assert response.json()["reason"] == "VALIDATOR_PARAM"


class TestInstanceShape:
    async def test_get_returns_union_of_list_and_get_fields(
        self, client: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await running(
            client, clock, billingMode="spot", envs=[{"key": "A", "value": "1"}]
        )
        body = await get(client, instance_id)
        assert body["cpuNum"] == "18"
        assert body["memory"] == "60"
        assert body["gpuNum"] == "1"
        assert body["clusterId"] == "as-sgp-2"
        assert body["clusterName"] == "AS-SGP-02"
        assert body["productId"] == "4090.18c60g"
        assert body["productName"] == "RTX 4090 24GB"
        assert body["rootfsSize"] == 60
        assert body["billingMode"] == "spot"
        assert body["spotStatus"] == "running"
        assert body["spotReclaimTime"] == "0"
        assert body["endTime"] == "-1"
        assert body["instancePrice"] == "19000"
        assert body["envs"] == [{"key": "A", "value": "1"}]
        for key in ("createdAt", "lastStartedAt"):
            assert body[key].isdigit()
            assert body[key] != "0"
        assert body["lastStoppedAt"] == "0"
        assert "statusError" not in body
        ssh = body["connectComponentSSH"]
        match = SSH.match(ssh["sshCommand"])
        assert match
        assert match.group(1) == "as-sgp-2"
        assert ssh["password"]
        assert ssh["isRunning"] is True
        assert body["sshCommand"] == ssh["sshCommand"]
        assert body["sshPassword"] == ssh["password"]
        assert body["connectComponentJupyter"]["address"].endswith("/8888")
        assert set(body["connectComponentWebTerminal"]) == {
            "address",
            "username",
            "password",
            "isRunning",
        }
        assert set(body["connectComponentLog"]) >= {"systemLogAddress", "instanceLogAddress"}
        assert body["node"] == {"maxRootfsSize": 1000}
        http, tcp = body["portMappings"]
        assert http["port"] == 8888
        assert http["type"] == "http"
        assert http["endpoint"].startswith("http")
        assert tcp["port"] == 22
        assert tcp["type"] == "tcp"
        assert re.fullmatch(r"[\w.-]+:\d+", tcp["endpoint"])

    async def test_on_demand_spot_fields(self, client: httpx.AsyncClient) -> None:
        body = await get(client, await create(client))
        assert body["spotStatus"] == ""
        assert body["endTime"] == "-1"
        assert body["connectComponentSSH"] == {
            "sshCommand": "",
            "command": "",
            "user": "",
            "password": "",
            "isRunning": False,
        }

    async def test_monthly_end_time(self, client: httpx.AsyncClient, clock: ManualClock) -> None:
        body = await get(client, await create(client, month=2))
        assert body["billingMode"] == "monthly"
        assert int(body["endTime"]) == int(clock.now().timestamp()) + 60 * 86400

    async def test_not_found_is_400_by_default(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/gpu/instance", params={"instanceId": "0" * 16})
        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "reason": "RESOURCE_NOT_FOUND",
            "message": "instance 0000000000000000 not found",
            "metadata": {},
        }

    async def test_not_found_can_be_404(self, clock: ManualClock) -> None:
        app = create_emulator_app(EmulatorConfig(not_found_status=404), clock=clock)
        transport = emulator_transport(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://e/v1", headers=AUTH
        ) as c:
            response = await c.get("/gpu/instance", params={"instanceId": "x"})
            assert response.status_code == 404
            assert response.json()["code"] == 404


class TestList:
    async def test_paging_and_total(self, client: httpx.AsyncClient) -> None:
        ids = [await create(client, name=f"n{i}") for i in range(12)]
        default = (await client.get("/gpu/instances")).json()
        assert default["total"] == 12
        assert len(default["instances"]) == 10
        page0 = (await client.get("/gpu/instances", params={"pageNum": 0, "pageSize": 5})).json()
        page1 = (await client.get("/gpu/instances", params={"pageNum": 1, "pageSize": 5})).json()
        page2 = (await client.get("/gpu/instances", params={"pageNum": 2, "pageSize": 5})).json()
        assert {i["id"] for i in page0["instances"]}.isdisjoint(
            {i["id"] for i in page1["instances"]}
        )  # pages count from 0: page 1 is the second page
        assert len(page2["instances"]) == 2
        zero = (await client.get("/gpu/instances", params={"pageSize": 0})).json()
        assert len(zero["instances"]) == 10
        everything = (await client.get("/gpu/instances", params={"pageSize": 100})).json()
        assert {i["id"] for i in everything["instances"]} == set(ids)

    async def test_filters(self, client: httpx.AsyncClient, clock: ManualClock) -> None:
        await create(client, name="train-a")
        await create(client, name="Train-B", productId="a100.24c120g")
        clock.advance(10)
        await create(client, name="other")
        by_name = (await client.get("/gpu/instances", params={"name": "train"})).json()
        assert by_name["total"] == 2
        by_product = (await client.get("/gpu/instances", params={"productName": "a100"})).json()
        assert [i["name"] for i in by_product["instances"]] == ["Train-B"]
        by_status = (await client.get("/gpu/instances", params={"status": "running"})).json()
        assert by_status["total"] == 2

    async def test_item_shape(self, client: httpx.AsyncClient) -> None:
        await create(client)
        [item] = (await client.get("/gpu/instances")).json()["instances"]
        assert isinstance(item["gpuNum"], str)
        assert isinstance(item["rootfsSize"], int)
        assert {
            "id",
            "name",
            "clusterId",
            "status",
            "imageUrl",
            "portMappings",
            "billingMode",
        } <= set(item)
        assert "endpoint" in item["portMappings"][0]


class TestLifecycleTiming:
    async def test_create_walks_through_statuses_on_the_clock(
        self, client: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await create(client)
        seen = [await status_of(client, instance_id)]
        for step in (0.2, 0.5, 1.0):
            clock.advance(step)
            seen.append(await status_of(client, instance_id))
        assert seen == ["toCreate", "creating", "pulling", "running"]

    async def test_one_big_advance_stamps_the_real_transition_time(
        self, client: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        created = int(clock.now().timestamp())
        instance_id = await create(client)
        clock.advance(3600)
        body = await get(client, instance_id)
        assert int(body["lastStartedAt"]) == created + 1  # 0.2 + 0.5 + 1.0 s, truncated

    async def test_stop_start_restart_and_credential_rotation(
        self, client: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await running(client, clock)
        first = (await get(client, instance_id))["connectComponentSSH"]
        stop = await client.post("/gpu/instance/stop", json={"instanceId": instance_id})
        assert stop.json() == {"instanceId": instance_id, "state": "toStop"}
        clock.advance(0.2)
        assert await status_of(client, instance_id) == "stopping"
        clock.advance(0.5)
        stopped = await get(client, instance_id)
        assert stopped["status"] == "exited"
        assert stopped["lastStoppedAt"] != "0"
        start = await client.post("/gpu/instance/start", json={"instanceId": instance_id})
        assert start.json() == {"instanceId": instance_id, "state": "toStart"}
        clock.advance(0.2)
        assert await status_of(client, instance_id) == "starting"
        clock.advance(0.8)
        second = (await get(client, instance_id))["connectComponentSSH"]
        assert second["password"] != first["password"]
        assert second["sshCommand"] != first["sshCommand"]
        restart = await client.post("/gpu/instance/restart", json={"instanceId": instance_id})
        assert restart.json()["state"] == "toRestart"
        clock.advance(0.2)
        assert await status_of(client, instance_id) == "restarting"
        clock.advance(0.8)
        third = (await get(client, instance_id))["connectComponentSSH"]
        assert third == second

    async def test_instant_preset(self, clock: ManualClock) -> None:
        app = create_emulator_app(EmulatorConfig.preset("instant"), clock=clock)
        transport = emulator_transport(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://e/v1", headers=AUTH
        ) as c:
            instance_id = await create(c)
            assert await status_of(c, instance_id) == "running"
            world: World = app.state.world
            instance = world.instance(instance_id)
            assert world.app_is_up(instance)

    async def test_speed_scales_durations(self, clock: ManualClock) -> None:
        app = create_emulator_app(EmulatorConfig(speed=10), clock=clock)
        transport = emulator_transport(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://e/v1", headers=AUTH
        ) as c:
            instance_id = await create(c)
            clock.advance(16)
            assert await status_of(c, instance_id) == "pulling"
            clock.advance(1.1)
            assert await status_of(c, instance_id) == "running"


class TestStateRules:
    @pytest.mark.parametrize("action", ["start", "migrate"])
    async def test_only_from_exited(
        self, client: httpx.AsyncClient, clock: ManualClock, action: str
    ) -> None:
        instance_id = await running(client, clock)
        response = await client.post(f"/gpu/instance/{action}", json={"instanceId": instance_id})
        assert response.status_code == 400
        assert response.json()["message"] == "invalid state change"

    @pytest.mark.parametrize("action", ["stop", "restart"])
    async def test_only_from_running(self, client: httpx.AsyncClient, action: str) -> None:
        instance_id = await create(client)
        response = await client.post(f"/gpu/instance/{action}", json={"instanceId": instance_id})
        assert response.status_code == 400
        assert response.json()["message"] == "invalid state change"

    @pytest.mark.parametrize("action", ["start", "stop", "restart", "delete", "migrate"])
    async def test_unknown_instance(self, client: httpx.AsyncClient, action: str) -> None:
        response = await client.post(f"/gpu/instance/{action}", json={"instanceId": "f" * 16})
        assert response.json()["reason"] == "RESOURCE_NOT_FOUND"

    async def test_missing_instance_id(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/gpu/instance/stop", json={})
        assert response.json()["reason"] == "VALIDATOR_PARAM"


class TestDelete:
    async def test_from_any_state_then_removed_then_not_found(
        self, client: httpx.AsyncClient, clock: ManualClock
    ) -> None:
        instance_id = await create(client)
        response = await client.post("/gpu/instance/delete", json={"instanceId": instance_id})
        assert response.json() == {"instanceId": instance_id, "state": "toRemove"}
        again = await client.post("/gpu/instance/delete", json={"instanceId": instance_id})
        assert again.json()["state"] == "toRemove"
        clock.advance(0.2)
        assert await status_of(client, instance_id) == "removing"
        clock.advance(0.5)
        assert await status_of(client, instance_id) == "removed"
        clock.advance(59)
        assert await status_of(client, instance_id) == "removed"
        clock.advance(1)
        response = await client.get("/gpu/instance", params={"instanceId": instance_id})
        assert response.json()["reason"] == "RESOURCE_NOT_FOUND"

    async def test_monthly_cannot_be_deleted(self, client: httpx.AsyncClient) -> None:
        instance_id = await create(client, billingMode="monthly")
        response = await client.post("/gpu/instance/delete", json={"instanceId": instance_id})
        assert response.status_code == 400
        assert response.json()["reason"] == "PREPAID_INSTANCE_NOT_SUPPORT_RELEASE"


class TestCapacity:
    async def test_create_and_start_consume_stop_and_delete_release(
        self, client: httpx.AsyncClient, clock: ManualClock, world: World
    ) -> None:
        world.set_capacity("4090.18c60g", "as-sgp-2", 2)
        first = await create(client, gpuNum=2)
        full = await client.post("/gpu/instance/create", json=create_body())
        assert full.status_code == 400
        assert full.json()["reason"] == "INSUFFICIENT_RESOURCE"
        clock.advance(5)
        await client.post("/gpu/instance/stop", json={"instanceId": first})
        clock.advance(5)
        second = await create(client)
        start = await client.post("/gpu/instance/start", json={"instanceId": first})
        assert start.json()["reason"] == "INSUFFICIENT_RESOURCE"
        await client.post("/gpu/instance/delete", json={"instanceId": second})
        clock.advance(0.2)
        start = await client.post("/gpu/instance/start", json={"instanceId": first})
        assert start.json()["reason"] == "INSUFFICIENT_RESOURCE"  # freed only once removed
        clock.advance(0.5)
        start = await client.post("/gpu/instance/start", json={"instanceId": first})
        assert start.json()["state"] == "toStart"
        assert world.capacity.free("4090.18c60g", "as-sgp-2") == 0

    async def test_random_cluster_picks_one_with_room(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        world.set_capacity("4090.18c60g", "as-sgp-2", 0)
        response = await client.post("/gpu/instance/create", json=create_body())
        assert response.json()["reason"] == "INSUFFICIENT_RESOURCE"


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Bearer "},
            {"Authorization": "Basic abc"},
            {"Authorization": "sk_x"},
        ],
    )
    async def test_missing_or_malformed_bearer(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        client.headers.pop("Authorization")
        response = await client.get("/clusters", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "code": 401,
            "reason": "UNAUTHORIZED",
            "message": "invalid or missing api key",
            "metadata": {},
        }

    async def test_configured_keys(self, clock: ManualClock) -> None:
        app = create_emulator_app(EmulatorConfig(api_keys=["sk_good"]), clock=clock)
        async with httpx.AsyncClient(
            transport=emulator_transport(app), base_url="http://e/v1"
        ) as c:
            bad = await c.get("/clusters", headers={"Authorization": "Bearer sk_bad"})
            good = await c.get("/clusters", headers={"Authorization": "Bearer sk_good"})
        assert bad.status_code == 401
        assert good.status_code == 200

    async def test_both_prefixes_and_unknown_paths(self, app: Any) -> None:
        async with httpx.AsyncClient(transport=emulator_transport(app), headers=AUTH) as c:
            bare = await c.get("http://e/v1/clusters")
            full = await c.get("http://e/gpu-instance/openapi/v1/clusters")
            missing = await c.get("http://e/v1/nope")
        assert bare.json() == full.json()
        assert missing.status_code == 404
        assert missing.json()["code"] == 404
