"""Token auth (environment and database tokens), the inbound rate limit and CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.auth.tokens import TokenRepository
from novita_gpu.context import AppContext
from novita_gpu.core.clock import ManualClock
from tests.conftest import app_options
from tests.support.asgi import running_app
from tests.support.settings import make_settings

LISTING = "/api/instances"


@pytest.fixture
def secured(database_url: str, clock: ManualClock, emulator: Starlette) -> Any:
    async def start(**overrides: Any) -> AsyncIterator[tuple[Any, AppContext]]:
        settings = make_settings(database_url, **overrides)
        app = create_app(settings, app_options(clock, emulator))
        async with running_app(app) as (client, state):
            yield client, state["ctx"]

    return start


class TestTokens:
    async def test_without_tokens_the_api_is_open(self, secured: Any) -> None:
        async for client, _ in secured():
            assert (await client.get(LISTING)).status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({"Authorization": "Bearer env-token"}, id="bearer"),
            pytest.param({"X-API-Key": "env-token"}, id="x-api-key"),
        ],
    )
    async def test_env_token_is_accepted(self, secured: Any, headers: dict[str, str]) -> None:
        async for client, _ in secured(api_tokens=["env-token", "other"]):
            assert (await client.get(LISTING, headers=headers)).status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({}, id="missing"),
            pytest.param({"Authorization": "Bearer wrong"}, id="wrong"),
            pytest.param({"Authorization": "Basic env-token"}, id="wrong-scheme"),
        ],
    )
    async def test_missing_or_wrong_token_is_401(
        self, secured: Any, headers: dict[str, str]
    ) -> None:
        async for client, _ in secured(api_tokens=["env-token"]):
            response = await client.get(LISTING, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "UNAUTHORIZED"
            assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_health_stays_open(self, secured: Any) -> None:
        async for client, _ in secured(api_tokens=["env-token"]):
            assert (await client.get("/health/live")).status_code == 200
            assert (await client.get("/health")).status_code == 200

    async def test_database_token_is_enforced_after_the_cache_refresh(
        self, database_url: str, clock: ManualClock, emulator: Starlette
    ) -> None:
        settings = make_settings(database_url)
        app = create_app(settings, app_options(clock, emulator))
        async with running_app(app) as (_client, state):
            ctx: AppContext = state["ctx"]
            async with ctx.db.write() as session, session.begin():
                row, token = await TokenRepository(session).create("ci")
        async with running_app(create_app(settings, app_options(clock, emulator))) as (fresh, _):
            assert (await fresh.get(LISTING)).status_code == 401
            ok = await fresh.get(LISTING, headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200
        async with running_app(create_app(settings, app_options(clock, emulator))) as (_app2, st):
            async with st["ctx"].db.write() as session, session.begin():
                assert await TokenRepository(session).revoke(row.id)
                stored = await TokenRepository(session).all()
            assert token not in {t.token_hash for t in stored}  # only the digest was kept
        guarded = make_settings(database_url, api_tokens=["env-token"])
        async with running_app(create_app(guarded, app_options(clock, emulator))) as (again, _):
            revoked = await again.get(LISTING, headers={"Authorization": f"Bearer {token}"})
            assert revoked.status_code == 401


class TestRateLimit:
    async def test_over_the_limit_is_429_with_retry_after(self, secured: Any) -> None:
        async for client, _ in secured(rate_limit_max_requests=3, rate_limit_window_ms=60_000):
            codes = [(await client.get(LISTING)).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            limited = await client.get(LISTING)
            assert limited.json()["error"]["code"] == "RATE_LIMITED"
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert (await client.get("/health/live")).status_code == 200


class TestCors:
    async def test_listed_origin_is_allowed(self, secured: Any) -> None:
        async for client, _ in secured(allowed_origins=["https://dash.example"]):
            response = await client.options(
                LISTING,
                headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"},
            )
            assert response.headers["access-control-allow-origin"] == "https://dash.example"

    async def test_off_without_origins(self, secured: Any) -> None:
        async for client, _ in secured():
            response = await client.get(LISTING, headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in response.headers
