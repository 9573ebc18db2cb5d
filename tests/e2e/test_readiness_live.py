"""Readiness over real HTTP: the emulator's endpoints answer 502 until the application boots;
an application that never answers fails with the last probe results; a template without
HTTP ports is ready at once; a long-poll that times out says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path, preset="fast") as stack:
        yield stack


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
        **overrides,
    }


async def test_probes_wait_for_the_application(live: LiveStack) -> None:
    created = (await live.client.post("/api/instances", json=body("booting"))).json()
    ready = await live.wait_status(created["instanceId"], "ready", timeout=30)
    probe = ready["healthCheck"]
    assert probe["status"] == "healthy"
    assert probe["rounds"] >= 1
    assert [e["port"] for e in probe["endpoints"]] == [8888]
    assert probe["endpoints"][0]["httpStatus"] == 200


async def test_an_application_that_never_answers_fails_with_probe_results(live: LiveStack) -> None:
    check = {"maxWaitTimeMs": 2000, "retryDelayMs": 200}
    created = (
        await live.client.post("/api/instances", json=body("dead", healthCheck=check))
    ).json()
    live.world.set_app(created["novitaInstanceId"], healthy=False)
    failed = await live.wait_status(created["instanceId"], "failed", timeout=30)
    assert "port 8888" in failed["lastError"]
    assert "502" in failed["lastError"]
    assert failed["healthCheck"]["status"] == "failed"
    assert failed["healthCheck"]["endpoints"][0]["httpStatus"] == 502


async def test_no_http_ports_is_ready_at_once(live: LiveStack) -> None:
    created = (
        await live.client.post("/api/instances", json=body("ssh-only", templateId="212"))
    ).json()
    ready = await live.wait_status(created["instanceId"], "ready", timeout=30)
    assert ready["healthCheck"]["status"] == "skipped"


async def test_long_poll_timeout_returns_current_state_and_says_so(live: LiveStack) -> None:
    created = (await live.client.post("/api/instances", json=body("slow"))).json()
    response = await live.client.get(
        f"/api/instances/{created['instanceId']}", params={"waitFor": "stopped", "timeout": 0.5}
    )
    assert response.status_code == 200
    assert response.headers["X-Wait-Result"] == "timeout"
    assert response.json()["waitResult"] == "timeout"
    assert response.json()["status"] != "stopped"
