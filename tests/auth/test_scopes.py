"""Token scopes: ``read`` may look, ``admin`` may act and see secrets; /health details."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.auth.grants import Scope, parse_env_token
from novita_gpu.auth.tokens import TokenRepository
from novita_gpu.core.clock import ManualClock
from tests.conftest import app_options
from tests.instances.helpers import NO_PROBE, body
from tests.support.asgi import running_app
from tests.support.settings import make_settings

READ = {"Authorization": "Bearer r-tok"}
ADMIN = {"Authorization": "Bearer a-tok"}
TOKENS = ["read:r-tok", "a-tok", "admin:b-tok"]


@pytest.fixture
async def client(database_url: str, clock: ManualClock, emulator: Starlette) -> AsyncIterator[Any]:
    settings = make_settings(database_url, api_tokens=TOKENS)
    async with running_app(create_app(settings, app_options(clock, emulator))) as (c, _):
        yield c


@pytest.fixture
async def instance_id(client: Any) -> str:
    created = await client.post("/api/instances", json=body(healthCheck=NO_PROBE), headers=ADMIN)
    assert created.status_code == 201, created.text
    found: str = created.json()["instanceId"]
    return found


class TestReadScope:
    @pytest.mark.parametrize(
        "path", ["/api/instances", "/api/instances/{id}", "/api/webhooks/deliveries", "/metrics"]
    )
    async def test_reads(self, client: Any, instance_id: str, path: str) -> None:
        response = await client.get(path.format(id=instance_id), headers=READ)
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            pytest.param("POST", "/api/instances", id="create"),
            pytest.param("POST", "/api/instances/{id}/stop", id="stop"),
            pytest.param("DELETE", "/api/instances/{id}", id="delete"),
            pytest.param("POST", "/api/instances/stop-all", id="stop-all"),
            pytest.param("PUT", "/api/instances/{id}/last-used", id="heartbeat"),
            pytest.param("POST", "/api/instances/adopt", id="adopt"),
            pytest.param("GET", "/api/instances/{id}?includeSecrets=true", id="secrets"),
            pytest.param("POST", "/api/webhooks/deliveries/whd_x/retry", id="retry-delivery"),
        ],
    )
    async def test_cannot_act_or_see_secrets(
        self, client: Any, instance_id: str, method: str, path: str
    ) -> None:
        response = await client.request(
            method, path.format(id=instance_id), headers=READ, json=body("other")
        )
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "FORBIDDEN"
        assert error["details"] == {"scope": "read", "required": "admin"}


class TestAdminScope:
    async def test_unprefixed_and_admin_tokens_may_do_everything(
        self, client: Any, instance_id: str
    ) -> None:
        for headers in (ADMIN, {"X-API-Key": "b-tok"}):
            url = f"/api/instances/{instance_id}?includeSecrets=true"
            assert (await client.get(url, headers=headers)).status_code == 200
        stop = await client.post(f"/api/instances/{instance_id}/stop", headers=ADMIN)
        assert stop.status_code == 202

    async def test_a_database_token_carries_its_scope(
        self, database_url: str, clock: ManualClock, emulator: Starlette
    ) -> None:
        settings = make_settings(database_url, api_tokens=["a-tok"])
        async with running_app(create_app(settings, app_options(clock, emulator))) as (c, state):
            async with state["ctx"].db.write() as session, session.begin():
                _, token = await TokenRepository(session).create("dash", Scope.READ)
            headers = {"Authorization": f"Bearer {token}"}
            assert (await c.get("/api/instances", headers=headers)).status_code == 200
            refused = await c.post("/api/instances/stop-all", headers=headers)
            assert refused.status_code == 403


class TestHealth:
    async def test_anonymous_sees_only_the_status(self, client: Any) -> None:
        assert (await client.get("/health/live")).status_code == 200
        terse = await client.get("/health")
        assert set(terse.json()) == {"status", "timestamp"}
        detailed = await client.get("/health", headers=READ)
        assert {"system", "instances", "jobs"} <= set(detailed.json())

    async def test_a_wrong_token_on_health_is_anonymous(self, client: Any) -> None:
        terse = await client.get("/health", headers={"Authorization": "Bearer nope"})
        assert set(terse.json()) == {"status", "timestamp"}

    async def test_metrics_need_a_token(self, client: Any) -> None:
        assert (await client.get("/metrics")).status_code == 401


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("tok", ("tok", Scope.ADMIN)),
        ("read:tok", ("tok", Scope.READ)),
        ("admin:tok", ("tok", Scope.ADMIN)),
        ("other:tok", ("other:tok", Scope.ADMIN)),
        ("read:", ("read:", Scope.ADMIN)),
    ],
)
def test_api_tokens_entries(entry: str, parsed: tuple[str, Scope]) -> None:
    assert parse_env_token(entry) == parsed
