"""/metrics and /api/metrics report measured figures."""

from __future__ import annotations

from tests.conftest import Api
from tests.instances.helpers import create


async def test_prometheus_text_has_requests_upstream_and_instances(api: Api) -> None:
    await create(api, "metered")
    text = (await api.client.get("/metrics")).text
    assert (
        'novita_gpu_http_requests_total{method="POST",route="/api/instances",status="201"} 1.0'
        in text
    )
    assert (
        'novita_gpu_upstream_calls_total{endpoint="POST /gpu/instance/create",outcome="ok"}' in text
    )
    assert 'novita_gpu_instances{status="creating"} 1.0' in text
    assert "novita_gpu_upstream_breaker_open 0.0" in text


async def test_json_has_the_same_families(api: Api) -> None:
    await create(api, "metered")
    body = (await api.client.get("/api/metrics")).json()["metrics"]
    assert {
        "novita_gpu_http_requests",
        "novita_gpu_instances",
        "novita_gpu_upstream_calls",
    } <= body.keys()
    creating = [
        s for s in body["novita_gpu_instances"]["samples"] if s["labels"] == {"status": "creating"}
    ]
    assert creating[0]["value"] == 1.0
