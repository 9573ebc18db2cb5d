"""Concurrency is bounded but parallel, the rate limit holds, and every attempt is observed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.upstream import NovitaClient, UpstreamInvalidState
from tests.upstream import payloads
from tests.upstream.conftest import (
    API_KEY,
    BASE_URL,
    TEST_POLICY,
    FakeNovita,
    MakeClient,
    Observations,
    SteppingClock,
    error_reply,
    reply,
)

GET = "/gpu/instance"


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


class Gate:
    """A handler that holds every request until released, counting how many wait at once."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await self.open.wait()
        self.in_flight -= 1
        return reply(body=payloads.instance())


async def test_concurrency_is_bounded_and_parallel(
    make_client: MakeClient, novita: FakeNovita
) -> None:
    gate = Gate()
    novita.on(GET, gate)
    client = make_client(max_concurrency=3)
    calls = [asyncio.create_task(client.get_instance(str(n))) for n in range(10)]
    await settle()
    assert gate.in_flight == 3
    gate.open.set()
    results = await asyncio.gather(*calls)
    assert len(results) == 10
    assert gate.peak == 3
    assert len(novita.requests) == 10


async def test_rate_limit_spaces_requests_on_the_clock(
    make_client: MakeClient, novita: FakeNovita
) -> None:
    clock = ManualClock()
    sent_at: list[float] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.monotonic())
        return reply(body={"data": []})

    novita.on("/clusters", record)
    client = make_client(clock_=clock, rate_per_second=4.0, burst=2)
    calls = [asyncio.create_task(client.list_clusters()) for _ in range(6)]
    await settle()
    assert sent_at == [0.0, 0.0]
    for sent in range(3, 7):
        clock.advance(0.25)
        await settle()
        assert len(sent_at) == sent
    await asyncio.gather(*calls)
    assert sent_at == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0]


async def test_observer_sees_every_attempt(
    client: NovitaClient, novita: FakeNovita, observations: Observations
) -> None:
    novita.on(
        GET,
        error_reply(500, "UNKNOWN"),
        httpx.ReadTimeout("slow"),
        reply(body=payloads.instance()),
    )
    novita.on(
        "/gpu/instance/stop",
        httpx.ConnectError("refused"),
        error_reply(429, "X"),
        httpx.Response(400, json={"message": "invalid state change"}),
    )
    await client.get_instance("x")
    assert observations.outcomes == ["server_error", "timeout", "ok"]
    assert {endpoint for endpoint, _, _ in observations.reports} == {"GET /gpu/instance"}
    observations.reports.clear()
    with pytest.raises(UpstreamInvalidState):
        await client.stop_instance("x")
    assert observations.outcomes == ["connection_error", "rate_limited", "client_error"]


async def test_observer_durations_come_from_the_clock(
    make_client: MakeClient, novita: FakeNovita, observations: Observations
) -> None:
    clock = ManualClock()

    async def slow(request: httpx.Request) -> httpx.Response:
        await clock.sleep(1.5)
        return reply(body={"data": []})

    novita.on("/clusters", slow)
    call = asyncio.create_task(make_client(clock_=clock).list_clusters())
    await settle()
    clock.advance(1.5)
    await call
    assert observations.reports == [("GET /clusters", "ok", 1.5)]


async def test_a_failing_observer_does_not_break_calls(
    http: httpx.AsyncClient, novita: FakeNovita, clock: SteppingClock
) -> None:
    def broken(endpoint: str, outcome: str, seconds: float, /) -> None:
        raise RuntimeError("metrics backend down")

    client = NovitaClient(
        http, base_url=BASE_URL, api_key=API_KEY, policy=TEST_POLICY, clock=clock, observer=broken
    )
    novita.on("/clusters", reply(body={"data": []}))
    assert await client.list_clusters() == []
