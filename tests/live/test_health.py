"""A wrong API key, unreachable or unreadable upstream: /health says so, errors name the cause,
background jobs log one line per change of state, and everything recovers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from structlog.testing import capture_logs

from tests.instances.helpers import NO_PROBE, body
from tests.live.conftest import MakeStack

GOOD_KEY, BAD_KEY = "sk_live_good", "sk_live_wrong"


@contextmanager
def info_logs() -> Iterator[None]:
    """Let info lines through (the suite logs warnings and up only)."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        yield
    finally:
        structlog.configure(wrapper_class=wrapper)


class TestWrongKey:
    async def test_health_and_create_say_the_key_was_rejected(self, make_stack: MakeStack) -> None:
        async with make_stack(api_keys=[GOOD_KEY], novita_api_key=BAD_KEY) as (api, _):
            create = await api.client.post("/api/instances", json=body(healthCheck=NO_PROBE))
            error = create.json()["error"]
            assert (create.status_code, error["code"]) == (502, "UPSTREAM_AUTH_FAILED")
            assert "Novita rejected the API key" in error["message"]
            assert "NOVITA_API_KEY" in error["message"]
            assert error["details"]["status"] == 401
            assert BAD_KEY not in create.text

            health = await api.client.get("/health")
            report = health.json()
            assert (health.status_code, report["status"]) == (503, "unhealthy")
            assert report["mode"] == "live"
            assert report["services"]["upstream"] == "unauthorized"
            assert "NOVITA_API_KEY" in report["upstream"]["message"]
            ready = await api.client.get("/health/ready")
            assert ready.status_code == 503
            assert "NOVITA_API_KEY" in ready.json()["error"]["message"]

    async def test_fixing_the_key_recovers(self, make_stack: MakeStack) -> None:
        async with make_stack(api_keys=[GOOD_KEY], novita_api_key=BAD_KEY) as (api, _):
            assert (await api.client.get("/api/regions")).status_code == 502
            api.world.config.api_keys = [GOOD_KEY, BAD_KEY]
            assert (await api.client.get("/api/regions")).status_code == 200
            report = (await api.client.get("/health")).json()
            assert report["services"]["upstream"] == "up"
            assert report["upstream"]["condition"] == "up"
            assert (await api.client.get("/health/ready")).json() == {"status": "ready"}

    async def test_a_failing_job_logs_once_per_change_of_state(self, make_stack: MakeStack) -> None:
        async with make_stack(api_keys=[GOOD_KEY], novita_api_key=BAD_KEY) as (api, runner):
            with info_logs(), capture_logs() as logs:
                for _ in range(3):
                    assert await runner.run_once("status_sync")
                api.world.config.api_keys = [BAD_KEY]
                assert await runner.run_once("status_sync")
            events = [(e["event"], e.get("job")) for e in logs if e.get("job") == "status_sync"]
            assert events == [("job failing", "status_sync"), ("job recovered", "status_sync")]
            assert not any(e.get("exc_info") for e in logs)
            changes = [e for e in logs if e["event"] == "upstream.condition_changed"]
            assert [e["condition"] for e in changes] == ["unauthorized", "up"]


class TestOtherFailures:
    async def test_unreadable_answers_show_as_malformed(self, make_stack: MakeStack) -> None:
        async with make_stack() as (api, _):
            api.world.add_fault("malformed", "/clusters", message="Bad gateway")
            response = await api.client.get("/api/regions")
            report = (await api.client.get("/health")).json()
            assert response.status_code == 502
            assert report["services"]["upstream"] == "malformed"
            assert report["status"] == "degraded"
            ready = (await api.client.get("/health/ready")).json()
            assert ready["status"] == "degraded"
            assert "cannot read" in ready["reason"]

    async def test_rate_limits_are_503_with_retry_after_and_leave_upstream_up(
        self, make_stack: MakeStack
    ) -> None:
        async with make_stack() as (api, _):
            api.world.add_fault("rate_limit", "/clusters", retry_after=7)
            response = await api.client.get("/api/regions")
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "7"
            report = (await api.client.get("/health")).json()
            assert report["services"]["upstream"] == "up"
            assert report["upstream"]["lastRateLimitedAt"] is not None
