"""Every error path renders the error envelope; request ids are taken or made and echoed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Api


def assert_envelope(body: dict[str, object], code: str) -> None:
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == code
    assert error["message"]
    assert error["requestId"]
    assert str(error["timestamp"]).endswith("Z")
    assert "Traceback" not in str(body)


class TestEnvelope:
    async def test_unknown_route_is_404(self, api: Api) -> None:
        response = await api.client.get("/api/nope")
        assert response.status_code == 404
        assert_envelope(response.json(), "NOT_FOUND")

    async def test_wrong_method_is_405(self, api: Api) -> None:
        response = await api.client.patch("/api/instances")
        assert response.status_code == 405
        assert_envelope(response.json(), "METHOD_NOT_ALLOWED")

    async def test_malformed_json_is_400(self, api: Api) -> None:
        response = await api.client.post(
            "/api/instances", content=b'{"name": ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert_envelope(response.json(), "INVALID_JSON")

    async def test_validation_lists_every_field(self, api: Api) -> None:
        response = await api.client.post("/api/instances", json={"gpuNum": 0, "extra": 1})
        assert response.status_code == 400
        body = response.json()
        assert_envelope(body, "VALIDATION_ERROR")
        fields = {detail["field"] for detail in body["error"]["details"]}
        assert {"name", "productName", "templateId", "gpuNum", "extra"} <= fields

    async def test_declared_oversized_body_is_413(self, api: Api) -> None:
        response = await api.client.post(
            "/api/instances", content=b"x" * (api.ctx.settings.max_body_bytes + 1)
        )
        assert response.status_code == 413
        assert_envelope(response.json(), "PAYLOAD_TOO_LARGE")

    async def test_streamed_oversized_body_is_413(self, api: Api) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b"y" * 65536

        response = await api.client.post("/api/instances", content=chunks())
        assert response.status_code == 413
        assert_envelope(response.json(), "PAYLOAD_TOO_LARGE")


class TestRequestId:
    async def test_given_id_is_echoed_in_header_and_error(self, api: Api) -> None:
        response = await api.client.get("/api/nope", headers={"X-Request-ID": "trace-123"})
        assert response.headers["X-Request-ID"] == "trace-123"
        assert response.json()["error"]["requestId"] == "trace-123"

    @pytest.mark.parametrize("given", ["", "x" * 129, "bad\x01id"])
    async def test_unusable_id_is_replaced(self, api: Api, given: str) -> None:
        response = await api.client.get("/health/live", headers={"X-Request-ID": given})
        generated = response.headers["X-Request-ID"]
        assert generated
        assert generated != given


class TestHealth:
    async def test_health_reports_measured_figures(self, api: Api) -> None:
        await api.client.get("/health/live")
        response = await api.client.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["mode"] == "emulator"
        assert body["services"]["database"] == "up"
        assert body["services"]["upstream"] == "up"
        assert body["performance"]["requestsPerMinute"] > 0
        assert body["system"]["memory"]["usedMB"] > 0
        assert set(body["webhooks"]) == {"pending", "oldestPendingSeconds", "failed"}

    async def test_openapi_documents_the_instance_routes(self, api: Api) -> None:
        paths = (await api.client.get("/openapi.json")).json()["paths"]
        assert {"/api/instances", "/api/instances/{instance_id}", "/health"} <= paths.keys()
