"""Token auth (environment and database tokens), the inbound rate limit and CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from novita_gpu.app import create_app
from novita_gpu.auth.principal import Principal
from novita_gpu.auth.tokens import TokenRepository
from novita_gpu.context import AppContext
from novita_gpu.core.clock import ManualClock
from tests.conftest import app_options
from tests.support.asgi import running_app
from tests.support.settings import make_settings

LISTING = "/api/instances"
STOP_ALL = "/api/instances/stop-all"
DRY_RUN = {"dryRun": True}


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
    async def test_commands_over_the_budget_are_429_with_retry_after(self, secured: Any) -> None:
        async for client, _ in secured(rate_limit_max_requests=3, rate_limit_window_ms=60_000):
            codes = [(await client.post(STOP_ALL, json=DRY_RUN)).status_code for _ in range(4)]
            assert codes == [202, 202, 202, 429]
            limited = await client.post(STOP_ALL, json=DRY_RUN)
            assert limited.json()["error"]["code"] == "RATE_LIMITED"
            assert 1 <= int(limited.headers["Retry-After"]) <= 20
            assert (await client.get("/health/live")).status_code == 200

    async def test_reads_and_heartbeats_are_not_charged(self, secured: Any) -> None:
        async for client, _ in secured(rate_limit_max_requests=2, rate_limit_window_ms=60_000):
            for _ in range(20):
                assert (await client.get(LISTING)).status_code == 200
                missing = await client.put(f"{LISTING}/inst_missing/last-used", json={})
                assert missing.status_code == 404
            assert (await client.post(STOP_ALL, json=DRY_RUN)).status_code == 202

    async def test_an_original_env_never_throttles_a_polling_client(self, secured: Any) -> None:
        """100 per 15 minutes: a dashboard and pollers plus a batch of commands pass."""
        async for client, _ in secured(rate_limit_max_requests=100, rate_limit_window_ms=900_000):
            for round_ in range(150):
                assert (await client.get(LISTING)).status_code == 200
                if round_ % 3 == 0:
                    command = await client.post(STOP_ALL, json=DRY_RUN)
                    assert command.status_code == 202

    async def test_budgets_are_per_principal(self, secured: Any) -> None:
        async for client, _ in secured(api_tokens=["tok-a", "tok-b"], rate_limit_max_requests=2):
            a, b = ({"Authorization": f"Bearer {t}"} for t in ("tok-a", "tok-b"))
            codes = [(await client.post(STOP_ALL, json=DRY_RUN, headers=a)).status_code]
            codes += [(await client.post(STOP_ALL, json=DRY_RUN, headers=a)).status_code]
            codes += [(await client.post(STOP_ALL, json=DRY_RUN, headers=a)).status_code]
            assert codes == [202, 202, 429]
            assert (await client.post(STOP_ALL, json=DRY_RUN, headers=b)).status_code == 202

    async def test_failed_authentication_is_limited_per_address(self, secured: Any) -> None:
        """Guessing tokens: each wrong token counts against the address, not the token."""
        async for client, _ in secured(api_tokens=["tok-a"], rate_limit_max_requests=5):
            codes = [
                (await client.get(LISTING, headers={"X-API-Key": f"guess-{n}"})).status_code
                for n in range(7)
            ]
            assert codes == [401] * 5 + [429] * 2
            limited = await client.get(LISTING, headers={"X-API-Key": "guess-again"})
            assert int(limited.headers["Retry-After"]) >= 1
            valid = await client.get(LISTING, headers={"X-API-Key": "tok-a"})
            assert valid.status_code == 200


class TestPrincipal:
    async def test_the_request_scope_carries_the_token_identity(
        self, database_url: str, clock: ManualClock, emulator: Starlette
    ) -> None:
        settings = make_settings(database_url, api_tokens=["x", "tok-b"])
        app = create_app(settings, app_options(clock, emulator))

        async def whoami(request: Request) -> dict[str, Any]:
            principal: Principal | None = request.state.principal
            if principal is None:
                return {"kind": None}
            return {"kind": principal.kind, "tokenId": principal.token_id}

        app.add_api_route("/api/whoami", whoami)
        app.add_api_route("/health/whoami", whoami)
        async with running_app(app) as (client, _):
            token_b = {"Authorization": "Bearer tok-b"}
            expected = {"kind": "token", "tokenId": "env:1"}
            assert (await client.get("/api/whoami", headers=token_b)).json() == expected
            assert (await client.get("/health/whoami", headers=token_b)).json() == expected
            assert (await client.get("/health/whoami")).json() == {"kind": None}


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
