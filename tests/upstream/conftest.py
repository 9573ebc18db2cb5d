"""Fixtures for the upstream client tests: a scripted fake Novita behind ``httpx.MockTransport``.

``FakeNovita`` answers each path with a script of replies (responses, exceptions to raise, or
handlers) and records every request; ``SteppingClock`` returns from ``sleep`` at once, moving
time forward and recording how long each sleep was.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from novita_gpu.core.clock import Clock
from novita_gpu.upstream import NovitaClient, UpstreamPolicy

BASE_URL = "https://api.novita.ai/gpu-instance/openapi"
PREFIX = "/gpu-instance/openapi/v1"
API_KEY = "sk_test_0123456789abcdef"

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
Reply = httpx.Response | Exception | Handler

TEST_POLICY = UpstreamPolicy(
    timeout_seconds=5.0,
    max_attempts=3,
    backoff_base_seconds=0.5,
    backoff_max_seconds=4.0,
    retry_after_max_seconds=60.0,
    max_concurrency=8,
    rate_per_second=1000.0,
    burst=1000,
    breaker_failure_threshold=5,
    breaker_reset_seconds=30.0,
)


class SteppingClock:
    """A clock whose ``sleep`` returns at once after moving time forward by the amount asked."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


class UpperBound(random.Random):
    """Jitter that always picks the top of its range, so the backoff ceiling is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON response (``body=None`` sends ``{}``)."""
    return httpx.Response(status, json={} if body is None else body, headers=headers)


def error_reply(status: int, reason: str, message: str = "", **headers: str) -> httpx.Response:
    """An error in Novita's shape: ``{code, reason, message, metadata}``."""
    body = {"code": status, "reason": reason, "message": message, "metadata": {}}
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class FakeNovita:
    """Scripted answers per path (relative to ``/v1``); the last reply of a script repeats."""

    requests: list[httpx.Request] = field(default_factory=list)
    scripts: dict[str, list[Reply]] = field(default_factory=dict)

    def on(self, path: str, *replies: Reply) -> None:
        self.scripts[path] = list(replies)

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == PREFIX + path]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        script = self.scripts.get(request.url.path.removeprefix(PREFIX))
        if not script:
            return error_reply(404, "NO_SCRIPT", f"nothing scripted for {request.url.path}")
        current = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(current, Exception):
            raise current
        if isinstance(current, httpx.Response):
            return current
        result = current(request)
        return result if isinstance(result, httpx.Response) else await result


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.fixture
def novita() -> FakeNovita:
    return FakeNovita()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
async def http(novita: FakeNovita) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(novita.handler)) as http:
        yield http


@dataclass
class Observations:
    """A ``CallObserver`` that keeps every report."""

    reports: list[tuple[str, str, float]] = field(default_factory=list)

    def __call__(self, endpoint: str, outcome: str, seconds: float, /) -> None:
        self.reports.append((endpoint, outcome, seconds))

    @property
    def outcomes(self) -> list[str]:
        return [outcome for _, outcome, _ in self.reports]


@pytest.fixture
def observations() -> Observations:
    return Observations()


MakeClient = Callable[..., NovitaClient]


@pytest.fixture
def make_client(
    http: httpx.AsyncClient, clock: SteppingClock, observations: Observations
) -> MakeClient:
    """``make_client(**policy_overrides, clock=..., rng=...)``."""

    def build(*, clock_: Clock | None = None, rng: Any = None, **overrides: Any) -> NovitaClient:
        return NovitaClient(
            http,
            base_url=BASE_URL,
            api_key=API_KEY,
            policy=replace(TEST_POLICY, **overrides),
            clock=clock_ or clock,
            rng=rng,
            observer=observations,
        )

    return build


@pytest.fixture
def client(make_client: MakeClient) -> NovitaClient:
    return make_client()
