"""The breaker as the client uses it: opened by transient failures only, fail-fast, recovery."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from novita_gpu.upstream import NovitaClient, UpstreamCircuitOpen, UpstreamError, UpstreamNotFound
from tests.upstream import payloads
from tests.upstream.conftest import (
    FakeNovita,
    MakeClient,
    Observations,
    SteppingClock,
    error_reply,
    reply,
)

GET = "/gpu/instance"
OK = reply(body=payloads.instance())


@pytest.fixture
def single_shot(make_client: MakeClient) -> NovitaClient:
    """One attempt per call, three failures open the breaker for 30 s."""
    return make_client(max_attempts=1, breaker_failure_threshold=3, breaker_reset_seconds=30.0)


async def fail_times(client: NovitaClient, times: int) -> None:
    for _ in range(times):
        with pytest.raises(UpstreamError):
            await client.get_instance("x")


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(error_reply(500, "UNKNOWN"), id="5xx"),
        pytest.param(httpx.ReadTimeout("slow"), id="timeout"),
        pytest.param(httpx.ConnectError("refused"), id="refused"),
    ],
)
async def test_transient_failures_open_it_and_calls_then_fail_fast(
    failure: httpx.Response | Exception,
    single_shot: NovitaClient,
    novita: FakeNovita,
    observations: Observations,
) -> None:
    novita.on(GET, failure)
    await fail_times(single_shot, 3)
    assert single_shot.breaker_state == "open"
    with pytest.raises(UpstreamCircuitOpen) as caught:
        await single_shot.list_clusters()
    assert caught.value.retry_after == 30.0
    assert caught.value.endpoint == "GET /clusters"
    assert len(novita.requests) == 3
    assert observations.reports[-1] == ("GET /clusters", "circuit_open", 0.0)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(error_reply(400, "RESOURCE_NOT_FOUND"), id="not-found"),
        pytest.param(httpx.Response(404), id="404"),
        pytest.param(error_reply(400, "VALIDATOR_PARAM"), id="validation"),
        pytest.param(httpx.Response(400, json={"message": "invalid state change"}), id="state"),
        pytest.param(error_reply(401, "UNAUTHORIZED"), id="auth"),
    ],
)
async def test_4xx_never_opens_it(
    answer: httpx.Response, single_shot: NovitaClient, novita: FakeNovita
) -> None:
    novita.on(GET, answer)
    await fail_times(single_shot, 10)
    assert single_shot.breaker_state == "closed"
    assert len(novita.requests) == 10


async def test_a_4xx_breaks_a_run_of_failures(
    single_shot: NovitaClient, novita: FakeNovita
) -> None:
    server_error = error_reply(500, "UNKNOWN")
    novita.on(GET, server_error, server_error, error_reply(400, "RESOURCE_NOT_FOUND"), server_error)
    await fail_times(single_shot, 2)
    with pytest.raises(UpstreamNotFound):
        await single_shot.get_instance("x")
    await fail_times(single_shot, 2)
    assert single_shot.breaker_state == "closed"
    await fail_times(single_shot, 1)
    assert single_shot.breaker_state == "open"


async def test_half_open_trial_success_closes_it(
    single_shot: NovitaClient, novita: FakeNovita, clock: SteppingClock
) -> None:
    novita.on(GET, *[error_reply(503, "UNKNOWN")] * 3, OK)
    await fail_times(single_shot, 3)
    clock.advance(29.9)
    assert single_shot.breaker_state == "open"
    clock.advance(0.1)
    assert single_shot.breaker_state == "half_open"
    await single_shot.get_instance("x")
    assert single_shot.breaker_state == "closed"


async def test_half_open_trial_4xx_closes_it_too(
    single_shot: NovitaClient, novita: FakeNovita, clock: SteppingClock
) -> None:
    novita.on(GET, *[error_reply(503, "UNKNOWN")] * 3, error_reply(400, "RESOURCE_NOT_FOUND"))
    await fail_times(single_shot, 3)
    clock.advance(30)
    with pytest.raises(UpstreamNotFound):
        await single_shot.get_instance("x")
    assert single_shot.breaker_state == "closed"


async def test_half_open_trial_failure_reopens_it(
    single_shot: NovitaClient, novita: FakeNovita, clock: SteppingClock
) -> None:
    novita.on(GET, httpx.ReadTimeout("slow"))
    await fail_times(single_shot, 3)
    clock.advance(30)
    await fail_times(single_shot, 1)
    assert single_shot.breaker_state == "open"
    with pytest.raises(UpstreamCircuitOpen):
        await single_shot.get_instance("x")
    assert len(novita.requests) == 4


async def test_half_open_lets_exactly_one_trial_through(
    single_shot: NovitaClient, novita: FakeNovita, clock: SteppingClock
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow_ok(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await release.wait()
        return OK

    novita.on(GET, *[error_reply(500, "UNKNOWN")] * 3, slow_ok)
    await fail_times(single_shot, 3)
    clock.advance(30)
    trial = asyncio.create_task(single_shot.get_instance("x"))
    await arrived.wait()
    with pytest.raises(UpstreamCircuitOpen):
        await single_shot.get_instance("x")
    release.set()
    await trial
    assert single_shot.breaker_state == "closed"
    assert len(novita.requests) == 4


async def test_a_cancelled_trial_frees_the_slot(
    single_shot: NovitaClient, novita: FakeNovita, clock: SteppingClock
) -> None:
    arrived, never = asyncio.Event(), asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await never.wait()
        return OK

    novita.on(GET, *[error_reply(500, "UNKNOWN")] * 3, hang, OK)
    await fail_times(single_shot, 3)
    clock.advance(30)
    trial = asyncio.create_task(single_shot.get_instance("x"))
    await arrived.wait()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert single_shot.breaker_state == "half_open"
    await single_shot.get_instance("x")
    assert single_shot.breaker_state == "closed"


async def test_retries_stop_when_the_breaker_opens(
    make_client: MakeClient, novita: FakeNovita
) -> None:
    client = make_client(max_attempts=5, breaker_failure_threshold=2)
    novita.on(GET, error_reply(500, "UNKNOWN"))
    with pytest.raises(UpstreamCircuitOpen):
        await client.get_instance("x")
    assert len(novita.requests) == 2


async def test_rate_limits_do_not_open_it(single_shot: NovitaClient, novita: FakeNovita) -> None:
    novita.on(GET, error_reply(429, "RATE_LIMIT_EXCEEDED"))
    await fail_times(single_shot, 5)
    assert single_shot.breaker_state == "closed"
    assert single_shot.health.condition.value == "unknown"
    assert single_shot.health.last_rate_limited_at is not None
