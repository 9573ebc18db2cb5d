"""Start, stop, delete (by id and by name), the 409 rules, heartbeats, adopt, stop-all,
listings and the comprehensive view, driven through the HTTP API against the emulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle, status_of


async def ready_instance(api: Api, runner: Runner, name: str = "job-1") -> dict[str, Any]:
    created = await create(api, name, healthCheck=NO_PROBE)
    await settle(api, runner)
    assert await status_of(api, created["instanceId"]) == "ready"
    return created


async def stopped_instance(api: Api, runner: Runner, name: str = "job-1") -> dict[str, Any]:
    created = await ready_instance(api, runner, name)
    response = await api.client.post(f"/api/instances/{created['instanceId']}/stop")
    assert response.status_code == 202
    await settle(api, runner)
    assert await status_of(api, created["instanceId"]) == "stopped"
    return created


def calls(api: Api, key: str) -> int:
    return api.world.request_counts().get(key, 0)


class TestFollowsUpstream:
    async def test_create_reaches_ready_and_records_every_step(
        self, api: Api, runner: Runner
    ) -> None:
        created = await ready_instance(api, runner)
        events = (await api.client.get(f"/api/instances/{created['instanceId']}/events")).json()
        types = [event["type"] for event in events["events"]]
        assert types == [
            "instance.created",
            "instance.running",
            "instance.health_checking",
            "instance.ready",
        ]
        instance = (await api.client.get(f"/api/instances/{created['instanceId']}")).json()
        assert instance["healthCheck"]["status"] == "skipped"
        assert instance["connectionDetails"]["ssh"].startswith("ssh ")
        assert instance["readyAt"] is not None

    async def test_get_by_novita_id(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner)
        response = await api.client.get(f"/api/instances/{created['novitaInstanceId']}")
        assert response.json()["id"] == created["instanceId"]

    async def test_unknown_id_is_404(self, api: Api) -> None:
        response = await api.client.get("/api/instances/inst_nope")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "INSTANCE_NOT_FOUND"


class TestStopStart:
    async def test_stop_then_start_by_id(self, api: Api, runner: Runner) -> None:
        created = await stopped_instance(api, runner)
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code == 202
        assert response.json()["status"] == "starting"
        await settle(api, runner)
        assert await status_of(api, created["instanceId"]) == "ready"

    async def test_stop_and_start_by_name(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner, "named")
        stop = await api.client.post("/api/instances/stop", json={"instanceName": "named"})
        assert stop.status_code == 202
        await settle(api, runner)
        start = await api.client.post("/api/instances/start", json={"instanceName": "named"})
        assert start.status_code == 202
        await settle(api, runner)
        assert await status_of(api, created["instanceId"]) == "ready"

    async def test_second_stop_is_accepted_without_upstream_call(
        self, api: Api, runner: Runner
    ) -> None:
        created = await stopped_instance(api, runner)
        before = calls(api, "POST /gpu/instance/stop")
        response = await api.client.post(f"/api/instances/{created['instanceId']}/stop")
        assert response.status_code == 202
        assert response.json()["status"] == "stopped"
        assert calls(api, "POST /gpu/instance/stop") == before

    async def test_start_of_ready_instance_is_accepted_without_upstream_call(
        self, api: Api, runner: Runner
    ) -> None:
        created = await ready_instance(api, runner)
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code == 202
        assert calls(api, "POST /gpu/instance/start") == 0

    async def test_stop_while_booting_is_finished_once_running(
        self, api: Api, runner: Runner
    ) -> None:
        created = await create(api, "early", healthCheck=NO_PROBE)
        response = await api.client.post(f"/api/instances/{created['instanceId']}/stop")
        assert response.status_code == 202
        assert response.json()["status"] == "stopping"
        for _ in range(3):
            await settle(api, runner)
        assert await status_of(api, created["instanceId"]) == "stopped"

    async def test_start_without_capacity_is_422_and_deletes_nothing(
        self, api: Api, runner: Runner
    ) -> None:
        created = await stopped_instance(api, runner)
        api.world.add_fault(
            "error", "/gpu/instance/start", count=1, status=400, reason="INSUFFICIENT_RESOURCE"
        )
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "INSUFFICIENT_RESOURCE"
        assert await status_of(api, created["instanceId"]) == "stopped"
        assert calls(api, "POST /gpu/instance/delete") == 0

    async def test_start_over_the_spend_limit_is_422(self, api: Api, runner: Runner) -> None:
        stopped = await stopped_instance(api, runner, "thrifty")
        await ready_instance(api, runner, "busy")
        api.ctx.settings.spend_limit_usd_per_hour = 0.2  # one 4090 at $0.16/h fits, two do not
        response = await api.client.post(f"/api/instances/{stopped['instanceId']}/start")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "SPEND_LIMIT_EXCEEDED"
        assert calls(api, "POST /gpu/instance/start") == 0

    async def test_upstream_outage_is_503_not_500(self, api: Api, runner: Runner) -> None:
        created = await stopped_instance(api, runner)
        api.world.add_fault("error", "/gpu/instance/start", status=503)
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code in {502, 503}
        assert response.json()["error"]["code"] in {"UPSTREAM_ERROR", "UPSTREAM_UNAVAILABLE"}


class TestDelete:
    async def test_delete_by_id_keeps_a_tombstone(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner)
        response = await api.client.delete(f"/api/instances/{created['instanceId']}")
        assert response.status_code == 202
        assert response.json()["status"] == "deleting"
        await settle(api, runner)
        instance = (await api.client.get(f"/api/instances/{created['instanceId']}")).json()
        assert instance["status"] == "deleted"
        assert instance["deletedAt"] is not None
        listing = (await api.client.get("/api/instances")).json()
        assert listing["total"] == 0
        deleted = (await api.client.get("/api/instances", params={"status": "deleted"})).json()
        assert deleted["total"] == 1

    async def test_delete_by_name_and_repeat(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner, "bye")
        first = await api.client.post("/api/instances/delete", json={"instanceName": "bye"})
        assert first.status_code == 202
        await settle(api, runner)
        before = calls(api, "POST /gpu/instance/delete")
        again = await api.client.delete(f"/api/instances/{created['instanceId']}")
        assert again.status_code == 202
        assert again.json()["status"] == "deleted"
        assert calls(api, "POST /gpu/instance/delete") == before


class TestConflicts:
    async def test_start_while_deleting_is_409_in_progress(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner)
        await api.client.delete(f"/api/instances/{created['instanceId']}")
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "OPERATION_IN_PROGRESS"

    async def test_start_of_deleted_is_409_not_startable(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner)
        await api.client.delete(f"/api/instances/{created['instanceId']}")
        await settle(api, runner)
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "INSTANCE_NOT_STARTABLE"

    async def test_stop_of_deleted_is_409_not_stoppable(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner)
        await api.client.delete(f"/api/instances/{created['instanceId']}")
        response = await api.client.post(f"/api/instances/{created['instanceId']}/stop")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "INSTANCE_NOT_STOPPABLE"

    async def test_start_while_stopping_is_409_in_progress(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner)
        await api.client.post(f"/api/instances/{created['instanceId']}/stop")
        response = await api.client.post(f"/api/instances/{created['instanceId']}/start")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "OPERATION_IN_PROGRESS"

    async def test_by_name_of_unknown_is_404(self, api: Api) -> None:
        response = await api.client.post("/api/instances/stop", json={"instanceName": "ghost"})
        assert response.status_code == 404


class TestLastUsed:
    async def test_heartbeat_by_id_and_name(self, api: Api, runner: Runner) -> None:
        created = await ready_instance(api, runner, "beat")
        by_id = await api.client.put(f"/api/instances/{created['instanceId']}/last-used")
        assert by_id.status_code == 200
        assert by_id.json()["lastUsedAt"] is not None
        by_name = await api.client.put("/api/instances/last-used", json={"instanceName": "beat"})
        assert by_name.status_code == 200

    @pytest.mark.parametrize(
        ("offset", "valid"),
        [
            pytest.param(timedelta(minutes=10), False, id="future"),
            pytest.param(timedelta(seconds=30), True, id="within-skew"),
            pytest.param(-timedelta(days=2), False, id="before-creation"),
        ],
    )
    async def test_time_rules(
        self, api: Api, runner: Runner, offset: timedelta, valid: bool
    ) -> None:
        created = await ready_instance(api, runner)
        when = (api.clock.now() + offset).isoformat()
        response = await api.client.put(
            f"/api/instances/{created['instanceId']}/last-used", json={"lastUsedAt": when}
        )
        assert response.status_code == (200 if valid else 400)
        if not valid:
            assert response.json()["error"]["details"][0]["field"] == "lastUsedAt"


class TestAdoptAndComprehensive:
    def outside_instance(self, api: Api, name: str = "outside") -> str:
        made = api.world.create_instance(
            {
                "name": name,
                "productId": "4090.16c62g",
                "gpuNum": 1,
                "rootfsSize": 60,
                "imageUrl": "busybox",
                "kind": "gpu",
                "clusterId": "us-ca-6",
            }
        )
        return str(made.id)

    async def test_comprehensive_lists_upstream_only_and_changes_nothing(
        self, api: Api, runner: Runner
    ) -> None:
        await ready_instance(api, runner)
        novita_id = self.outside_instance(api)
        before = dict(api.world.request_counts())
        response = await api.client.get("/api/instances/comprehensive")
        body = response.json()
        sources = {item["novitaInstanceId"]: item["source"] for item in body["instances"]}
        assert sources[novita_id] == "upstream"
        assert body["managed"] == 1
        assert body["upstreamOnly"] == 1
        after = api.world.request_counts()
        mutations = {k for k in after if k.startswith("POST") and after[k] != before.get(k, 0)}
        assert mutations == set()
        assert (await api.client.get("/api/instances")).json()["total"] == 1

    async def test_adopt_then_manage(self, api: Api, runner: Runner) -> None:
        novita_id = self.outside_instance(api)
        response = await api.client.post(
            "/api/instances/adopt", json={"novitaInstanceId": novita_id}
        )
        assert response.status_code == 201
        adopted = response.json()
        assert adopted["source"] == "adopted"
        again = await api.client.post("/api/instances/adopt", json={"novitaInstanceId": novita_id})
        assert again.status_code == 409
        stop = await api.client.post(f"/api/instances/{adopted['id']}/stop")
        assert stop.status_code == 202

    async def test_adopt_unknown_is_404(self, api: Api) -> None:
        response = await api.client.post(
            "/api/instances/adopt", json={"novitaInstanceId": "ffffffffffffffff"}
        )
        assert response.status_code == 404


class TestStopAllAndListing:
    async def test_stop_all_stops_every_live_instance(self, api: Api, runner: Runner) -> None:
        for name in ("a", "b", "c"):
            await ready_instance(api, runner, name)
        response = await api.client.post("/api/instances/stop-all")
        assert response.status_code == 202
        assert response.json()["stopped"] == 3
        await settle(api, runner)
        listing = (await api.client.get("/api/instances", params={"status": "stopped"})).json()
        assert listing["total"] == 3

    async def test_list_pages_newest_first_without_upstream_calls(
        self, api: Api, runner: Runner
    ) -> None:
        for index in range(5):
            await create(api, f"page-{index}", healthCheck=NO_PROBE)
            api.clock.advance(1)
        before = sum(api.world.request_counts().values())
        first = (await api.client.get("/api/instances", params={"limit": 2})).json()
        assert [i["name"] for i in first["instances"]] == ["page-4", "page-3"]
        assert first["total"] == 5
        second = (
            await api.client.get(
                "/api/instances", params={"limit": 2, "cursor": first["nextCursor"]}
            )
        ).json()
        assert [i["name"] for i in second["instances"]] == ["page-2", "page-1"]
        prefix = (await api.client.get("/api/instances", params={"name": "page-1*"})).json()
        assert prefix["total"] == 1
        assert sum(api.world.request_counts().values()) == before

    async def test_bad_status_filter_is_400(self, api: Api) -> None:
        response = await api.client.get("/api/instances", params={"status": "bogus"})
        assert response.status_code == 400
