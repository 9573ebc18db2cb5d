"""The original service's action fields: ``webhookUrl`` on start/stop/delete and
``healthCheckConfig``/``targetPort`` on start, by name and by id; get by name."""

from __future__ import annotations

from typing import Any

import pytest

from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle, status_of

HOOK = "http://hooks.example.test/novita"


async def stored(api: Api, instance_id: str) -> Instance:
    async with api.ctx.db.read() as session:
        found = await InstanceRepository(session).get(instance_id)
    assert found is not None
    return found


async def delivery_targets(api: Api, instance_id: str) -> set[tuple[str, str | None]]:
    response = await api.client.get("/api/webhooks/deliveries", params={"instanceId": instance_id})
    return {(d["eventType"], d["url"]) for d in response.json()["deliveries"]}


async def ready(api: Api, runner: Runner, name: str) -> str:
    created = await create(api, name, healthCheck=NO_PROBE)
    await settle(api, runner)
    assert await status_of(api, created["instanceId"]) == "ready"
    instance_id: str = created["instanceId"]
    return instance_id


class TestByName:
    async def test_stop_with_webhook_url_sends_this_operations_events_there(
        self, api: Api, runner: Runner
    ) -> None:
        instance_id = await ready(api, runner, "orig")

        response = await api.client.post(
            "/api/instances/stop", json={"instanceName": "orig", "webhookUrl": HOOK}
        )
        await settle(api, runner)

        assert response.status_code == 202, response.text
        targets = await delivery_targets(api, instance_id)
        assert ("instance.stopping", HOOK) in targets
        assert ("instance.stopped", HOOK) in targets
        assert ("instance.ready", HOOK) not in targets  # earlier events stay where they went

    async def test_start_applies_health_check_config_and_target_port(
        self, api: Api, runner: Runner
    ) -> None:
        instance_id = await ready(api, runner, "orig")
        await api.client.post("/api/instances/stop", json={"instanceName": "orig"})
        await settle(api, runner)

        response = await api.client.post(
            "/api/instances/start",
            json={
                "instanceName": "orig",
                "healthCheckConfig": {
                    "timeoutMs": 5000,
                    "retryAttempts": 2,
                    "maxWaitTimeMs": 60000,
                },
                "targetPort": 8888,
                "webhookUrl": HOOK,
            },
        )

        assert response.status_code == 202, response.text
        row = await stored(api, instance_id)
        assert row.health_check_config == {
            "enabled": False,  # from the create, kept: the start only overrides what it names
            "timeoutMs": 5000,
            "retryAttempts": 2,
            "maxWaitTimeMs": 60000,
            "targetPort": 8888,
        }
        assert row.webhook_url == HOOK

    async def test_delete_with_webhook_url(self, api: Api, runner: Runner) -> None:
        instance_id = await ready(api, runner, "orig")

        response = await api.client.post(
            "/api/instances/delete", json={"instanceName": "orig", "webhookUrl": HOOK}
        )
        await settle(api, runner)

        assert response.status_code == 202, response.text
        assert ("instance.deleted", HOOK) in await delivery_targets(api, instance_id)

    @pytest.mark.parametrize(
        ("path", "extra"),
        [
            pytest.param("/api/instances/stop", {"targetPort": 80}, id="stop-has-no-target-port"),
            pytest.param("/api/instances/start", {"colour": "red"}, id="unknown-field"),
            pytest.param("/api/instances/start", {"webhookUrl": "ftp://x"}, id="bad-url"),
            pytest.param("/api/instances/start", {"targetPort": 0}, id="port-out-of-range"),
        ],
    )
    async def test_other_fields_stay_a_400(
        self, api: Api, path: str, extra: dict[str, Any]
    ) -> None:
        response = await api.client.post(path, json={"instanceName": "orig", **extra})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


class TestById:
    async def test_start_and_stop_by_id_accept_the_same_body(
        self, api: Api, runner: Runner
    ) -> None:
        instance_id = await ready(api, runner, "byid")
        stop = await api.client.post(
            f"/api/instances/{instance_id}/stop", json={"webhookUrl": HOOK}
        )
        await settle(api, runner)
        start = await api.client.post(
            f"/api/instances/{instance_id}/start", json={"targetPort": 8888}
        )

        assert (stop.status_code, start.status_code) == (202, 202)
        row = await stored(api, instance_id)
        assert (row.webhook_url, row.health_check_config["targetPort"]) == (HOOK, 8888)

    async def test_a_no_op_changes_nothing(self, api: Api, runner: Runner) -> None:
        instance_id = await ready(api, runner, "noop")
        response = await api.client.post(
            f"/api/instances/{instance_id}/start", json={"webhookUrl": HOOK}
        )

        assert response.status_code == 202
        assert (await stored(api, instance_id)).webhook_url is None


class TestGetByName:
    async def test_returns_the_live_instance(self, api: Api, runner: Runner) -> None:
        instance_id = await ready(api, runner, "named")
        response = await api.client.get("/api/instances/by-name/named")
        assert response.status_code == 200
        assert response.json()["id"] == instance_id

    async def test_waits_like_get_by_id(self, api: Api, runner: Runner) -> None:
        await ready(api, runner, "named")
        response = await api.client.get(
            "/api/instances/by-name/named", params={"waitFor": "ready", "timeout": 0}
        )
        assert response.json()["waitResult"] == "reached"

    async def test_unknown_or_deleted_name_is_404(self, api: Api, runner: Runner) -> None:
        await ready(api, runner, "gone")
        await api.client.post("/api/instances/delete", json={"instanceName": "gone"})
        await settle(api, runner)

        response = await api.client.get("/api/instances/by-name/gone")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "INSTANCE_NOT_FOUND"
