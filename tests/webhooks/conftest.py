"""Webhook fixtures: a scriptable receiver, a dispatcher factory, settings with a secret.

The clock starts at the real time of day: ``standardwebhooks`` checks the signature timestamp
against the real clock (5 minutes of tolerance).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from novita_gpu.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import Api
from tests.support.receiver import Receiver
from tests.support.settings import make_settings

SECRET = "plain-secret-ünïcode"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

DispatcherFactory = Callable[..., WebhookDispatcher]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Per-test settings: override with ``@pytest.mark.parametrize("settings_overrides", ...)``."""
    return {}


@pytest.fixture
def settings(database_url: str, settings_overrides: dict[str, Any]) -> Settings:
    # Generous: on a loaded CI machine a local receiver has taken over 0.5 s to answer, and a
    # timed-out attempt changes every state a test expects. Timeout tests set their own.
    values: dict[str, Any] = {"webhook_secret": SECRET, "webhook_timeout": 5000}
    return make_settings(database_url, **(values | settings_overrides))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.close()


@pytest.fixture
async def webhook_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
def make_dispatcher(api: Api, webhook_http: httpx.AsyncClient) -> DispatcherFactory:
    """Dispatchers on the app's database; each gets its own owner id unless given one."""
    count = 0

    def build(owner: str | None = None, **options: Any) -> WebhookDispatcher:
        nonlocal count
        count += 1
        options.setdefault("rng", random.Random(count))
        return WebhookDispatcher(api.ctx, owner or f"test-owner-{count}", webhook_http, **options)

    return build


@pytest.fixture
def dispatcher(make_dispatcher: DispatcherFactory) -> WebhookDispatcher:
    return make_dispatcher("owner-a")
