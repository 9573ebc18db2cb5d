"""Webhook targets on private networks are refused when they are set, naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import ConfigError, load_settings
from tests.conftest import app_options
from tests.instances.helpers import body
from tests.support.asgi import running_app
from tests.support.settings import make_settings

AUTH = {"Authorization": "Bearer tok"}
PRIVATE = [
    "http://127.0.0.1:9/hook",
    "http://localhost:9/hook",
    "http://[::1]:9/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.7/hook",
    "http://100.100.100.200/",
    "http://[::ffff:192.168.0.1]/",
]


@pytest.fixture
def served(database_url: str, clock: ManualClock, emulator: Starlette) -> Any:
    async def start(**overrides: Any) -> AsyncIterator[Any]:
        settings = make_settings(database_url, **overrides)
        async with running_app(create_app(settings, app_options(clock, emulator))) as (c, _):
            yield c

    return start


def names_webhook_url(response: Any) -> bool:
    error = response.json()["error"]
    return bool(response.status_code == 400 and error["details"][0]["field"] == "webhookUrl")


class TestCreateAndAdopt:
    @pytest.mark.parametrize("target", PRIVATE)
    async def test_a_server_with_tokens_refuses_private_targets(
        self, served: Any, target: str
    ) -> None:
        async for client in served(api_tokens=["tok"]):
            created = await client.post(
                "/api/instances", json=body("ssrf", webhookUrl=target), headers=AUTH
            )
            assert names_webhook_url(created), created.text
            adopted = await client.post(
                "/api/instances/adopt",
                json={"novitaInstanceId": "abc", "webhookUrl": target},
                headers=AUTH,
            )
            assert names_webhook_url(adopted), adopted.text
            assert (await client.get("/api/instances", headers=AUTH)).json()["total"] == 0

    async def test_an_explicit_setting_allows_them(self, served: Any) -> None:
        async for client in served(api_tokens=["tok"], webhook_allow_private_networks=True):
            created = await client.post(
                "/api/instances", json=body("ok", webhookUrl=PRIVATE[0]), headers=AUTH
            )
            assert created.status_code == 201

    async def test_a_loopback_server_without_tokens_allows_them(self, served: Any) -> None:
        async for client in served():
            created = await client.post("/api/instances", json=body("ok", webhookUrl=PRIVATE[1]))
            assert created.status_code == 201

    async def test_an_explicit_false_refuses_them_on_loopback(self, served: Any) -> None:
        async for client in served(webhook_allow_private_networks=False):
            created = await client.post("/api/instances", json=body("x", webhookUrl=PRIVATE[2]))
            assert names_webhook_url(created)


class TestSettings:
    @pytest.mark.parametrize(
        ("overrides", "allowed"),
        [
            pytest.param({}, True, id="loopback-open"),
            pytest.param({"api_tokens": "t"}, False, id="tokens"),
            pytest.param({"host": "0.0.0.0", "allow_unauthenticated": True}, False, id="public"),
            pytest.param({"api_tokens": "t", "webhook_allow_private_networks": True}, True),
            pytest.param({"webhook_allow_private_networks": False}, False, id="explicit-false"),
        ],
    )
    def test_the_default_follows_reachability(
        self, overrides: dict[str, Any], allowed: bool
    ) -> None:
        settings = load_settings(_env_file=None, **overrides)
        assert settings.private_targets_allowed is allowed

    def test_a_private_webhook_url_is_a_config_error_when_forbidden(self) -> None:
        with pytest.raises(ConfigError, match=r"WEBHOOK_URL: 127\.0\.0\.1 is a non-public"):
            load_settings(_env_file=None, api_tokens="t", webhook_url="http://127.0.0.1:1/h")
        allowed = load_settings(_env_file=None, webhook_url="http://127.0.0.1:1/h")
        assert str(allowed.webhook_url) == "http://127.0.0.1:1/h"
