"""What goes on the wire: method, path, query, headers and body of every SDK call."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from novita_gpu.client import Client, Retries
from tests.client.conftest import BASE_URL, Recorder, instance_json


def created_json() -> dict[str, object]:
    return {"instanceId": "inst_1", "status": "creating", "instance": instance_json()}


def action_json(status: str = "stopping") -> dict[str, object]:
    return {"instanceId": "inst_1", "status": status, "message": "ok", "instance": instance_json()}


class TestConfiguration:
    def test_base_url_and_token_from_the_environment(
        self, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("NOVITA_GPU_URL", "http://env.test:9000/")
        monkeypatch.setenv("NOVITA_GPU_TOKEN", "secret-token")
        with Client(transport=httpx.MockTransport(recorder)) as sdk:
            sdk.get_instance("inst_1")
        assert str(recorder.last.url) == "http://env.test:9000/api/instances/inst_1"
        assert recorder.last.headers["Authorization"] == "Bearer secret-token"

    def test_arguments_win_over_the_environment(
        self, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("NOVITA_GPU_URL", "http://env.test")
        monkeypatch.setenv("NOVITA_GPU_TOKEN", "env-token")
        with Client(
            "http://arg.test", token="arg-token", transport=httpx.MockTransport(recorder)
        ) as sdk:
            sdk.get_instance("inst_1")
        assert recorder.last.url.host == "arg.test"
        assert recorder.last.headers["Authorization"] == "Bearer arg-token"

    def test_default_is_local_and_unauthenticated(
        self, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("NOVITA_GPU_URL", raising=False)
        monkeypatch.delenv("NOVITA_GPU_TOKEN", raising=False)
        with Client(transport=httpx.MockTransport(recorder)) as sdk:
            sdk.get_instance("inst_1")
        assert str(recorder.last.url).startswith("http://127.0.0.1:3000/")
        assert "Authorization" not in recorder.last.headers
        assert recorder.last.headers["User-Agent"].startswith("novita-gpu-python/")

    def test_injected_http_client_is_used_and_left_open(self, recorder: Recorder) -> None:
        http = httpx.Client(transport=httpx.MockTransport(recorder), headers={"X-Team": "ml"})
        with Client(BASE_URL, http_client=http) as sdk:
            sdk.get_instance("inst_1")
        assert recorder.last.headers["X-Team"] == "ml"
        assert not http.is_closed
        http.close()

    def test_repr_names_the_server(self) -> None:
        assert repr(Client("http://x.test", retries=Retries.disabled())) == (
            "Client(base_url='http://x.test')"
        )


class TestCreate:
    def test_body_is_camel_case_without_unset_fields(
        self, client: Client, recorder: Recorder
    ) -> None:
        recorder.reply(httpx.Response(201, json=created_json()))
        result = client.create_instance("job-1", "RTX 4090 24GB", "pytorch-jupyter")
        assert recorder.last.method == "POST"
        assert recorder.last.url.path == "/api/instances"
        assert recorder.body() == {
            "name": "job-1",
            "productName": "RTX 4090 24GB",
            "templateId": "pytorch-jupyter",
            "gpuNum": 1,
        }
        assert result.instance_id == "inst_1"
        assert result.instance.status == "creating"

    def test_every_option_and_extra_fields(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(httpx.Response(201, json=created_json()))
        client.create_instance(
            "job-1",
            "A100 80GB",
            42,
            gpu_num=2,
            rootfs_size=100,
            region="US-CA-06",
            regions=["US-CA-06", "EU-DE-01"],
            billing_mode="onDemand",
            webhook_url="https://hooks.test/x",
            max_price_per_hour=2.5,
            auto_stop={"enabled": True, "idle_minutes": 30},
            envs={"A": "1"},
            health_check={"target_port": 8888},
            spot_recovery="recreate",
            auto_delete={"afterStoppedMinutes": 60},
        )
        assert recorder.body() == {
            "name": "job-1",
            "productName": "A100 80GB",
            "templateId": 42,
            "gpuNum": 2,
            "rootfsSize": 100,
            "region": "US-CA-06",
            "regions": ["US-CA-06", "EU-DE-01"],
            "billingMode": "onDemand",
            "webhookUrl": "https://hooks.test/x",
            "maxPricePerHour": 2.5,
            "autoStop": {"enabled": True, "idleMinutes": 30},
            "envs": [{"key": "A", "value": "1"}],
            "healthCheck": {"targetPort": 8888},
            "spotRecovery": "recreate",
            "autoDelete": {"afterStoppedMinutes": 60},
        }

    def test_envs_as_a_list_pass_through(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(httpx.Response(201, json=created_json()))
        client.create_instance("j", "p", "t", envs=[{"key": "K", "value": "v"}])
        assert recorder.body()["envs"] == [{"key": "K", "value": "v"}]

    def test_generates_an_idempotency_key_per_create(
        self, client: Client, recorder: Recorder
    ) -> None:
        recorder.reply(httpx.Response(201, json=created_json()))
        client.create_instance("a", "p", "t")
        client.create_instance("b", "p", "t")
        keys = [request.headers["Idempotency-Key"] for request in recorder.requests]
        assert all(keys)
        assert keys[0] != keys[1]

    def test_uses_the_given_idempotency_key(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(httpx.Response(201, json=created_json()))
        client.create_instance("a", "p", "t", idempotency_key="mine-1")
        assert recorder.last.headers["Idempotency-Key"] == "mine-1"


class TestReads:
    def test_get_escapes_the_id_and_asks_for_secrets(
        self, client: Client, recorder: Recorder
    ) -> None:
        client.get_instance("a/b", include_secrets=True)
        assert recorder.last.url.raw_path == b"/api/instances/a%2Fb?includeSecrets=true"

    def test_list_filters(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(httpx.Response(200, json={"instances": [instance_json()], "total": 1}))
        page = client.list_instances(status=["ready", "running"], name="job*", limit=5)
        assert dict(recorder.last.url.params) == {
            "status": "ready,running",
            "name": "job*",
            "limit": "5",
        }
        assert page.total == 1
        assert page.instances[0].id == "inst_1"
        assert page.next_cursor is None

    def test_iter_follows_next_cursor(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(
            httpx.Response(
                200, json={"instances": [instance_json("a")], "total": 2, "nextCursor": "c1"}
            ),
            httpx.Response(
                200, json={"instances": [instance_json("b")], "total": 2, "nextCursor": None}
            ),
        )
        ids = [instance.id for instance in client.iter_instances(status="ready", page_size=1)]
        assert ids == ["a", "b"]
        assert [r.url.params.get("cursor") for r in recorder.requests] == [None, "c1"]
        assert recorder.last.url.params["limit"] == "1"

    def test_get_by_name_skips_tombstones(self, client: Client, recorder: Recorder) -> None:
        tombstone = instance_json("old", status="deleted", deletedAt="2025-01-01T00:00:00Z")
        recorder.reply(
            httpx.Response(200, json={"instances": [tombstone, instance_json("live")], "total": 2})
        )
        assert client.get_instance_by_name("job-1").id == "live"
        assert recorder.last.url.params["name"] == "job-1"

    def test_products_and_health(self, client: Client, recorder: Recorder) -> None:
        offer = {
            "productId": "p1",
            "productName": "RTX 4090 24GB",
            "available": True,
            "pricePerHour": 0.35,
        }
        recorder.reply(
            httpx.Response(200, json={"products": [offer], "total": 1}),
            httpx.Response(200, json={"status": "healthy", "mode": "emulator", "extra": 1}),
        )
        offers = client.products("RTX 4090 24GB", billing_mode="spot")
        assert dict(recorder.last.url.params) == {
            "productName": "RTX 4090 24GB",
            "billingMode": "spot",
        }
        assert offers[0].price_per_hour == 0.35
        assert client.health().mode == "emulator"
        assert recorder.last.url.path == "/health"

    def test_instance_events(self, client: Client, recorder: Recorder) -> None:
        event = {
            "id": "evt_1",
            "type": "instance.created",
            "instanceId": "inst_1",
            "status": "creating",
            "timestamp": "2025-01-01T00:00:00.000Z",
            "data": {},
        }
        recorder.reply(httpx.Response(200, json={"events": [event], "total": 1}))
        events = client.instance_events("inst_1")
        assert recorder.last.url.path == "/api/instances/inst_1/events"
        assert [e.type for e in events] == ["instance.created"]


class TestActions:
    @pytest.mark.parametrize(
        ("method_name", "http_method", "path"),
        [
            pytest.param("start_instance", "POST", "/api/instances/inst_1/start", id="start"),
            pytest.param("stop_instance", "POST", "/api/instances/inst_1/stop", id="stop"),
            pytest.param("delete_instance", "DELETE", "/api/instances/inst_1", id="delete"),
        ],
    )
    def test_by_id(
        self, client: Client, recorder: Recorder, method_name: str, http_method: str, path: str
    ) -> None:
        recorder.reply(httpx.Response(202, json=action_json()))
        result = getattr(client, method_name)("inst_1")
        assert (recorder.last.method, recorder.last.url.path) == (http_method, path)
        assert recorder.last.content == b""
        assert result.status == "stopping"

    @pytest.mark.parametrize("verb", ["start", "stop", "delete"])
    def test_by_name(self, client: Client, recorder: Recorder, verb: str) -> None:
        recorder.reply(httpx.Response(202, json=action_json()))
        getattr(client, f"{verb}_instance_by_name")("job-1")
        assert (recorder.last.method, recorder.last.url.path) == ("POST", f"/api/instances/{verb}")
        assert recorder.body() == {"instanceName": "job-1"}

    def test_heartbeat_now_and_at_a_time(self, client: Client, recorder: Recorder) -> None:
        touched = {
            "instanceId": "inst_1",
            "lastUsedAt": "2025-01-01T00:00:00.000Z",
            "instance": instance_json(),
        }
        recorder.reply(httpx.Response(200, json=touched))
        client.heartbeat("inst_1")
        assert (recorder.last.method, recorder.last.url.path) == (
            "PUT",
            "/api/instances/inst_1/last-used",
        )
        assert recorder.last.content == b""
        when = datetime(2025, 1, 1, tzinfo=UTC)
        result = client.heartbeat("inst_1", when)
        assert recorder.body() == {"lastUsedAt": "2025-01-01T00:00:00+00:00"}
        assert result.last_used_at == when

    def test_heartbeat_by_name(self, client: Client, recorder: Recorder) -> None:
        touched = {"instanceId": "inst_1", "instance": instance_json()}
        recorder.reply(httpx.Response(200, json=touched))
        client.heartbeat_by_name("job-1", "2025-01-01T00:00:00Z")
        assert recorder.last.url.path == "/api/instances/last-used"
        assert json.loads(recorder.last.content) == {
            "instanceName": "job-1",
            "lastUsedAt": "2025-01-01T00:00:00Z",
        }
