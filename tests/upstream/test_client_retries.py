"""Which calls are retried, after what, how long the client waits, and the one-shot create."""

from __future__ import annotations

import email.utils
import random
from datetime import timedelta

import httpx
import pytest

from novita_gpu.upstream import (
    CreateInstanceRequest,
    CreateOutcomeUnknown,
    NovitaClient,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamInvalidState,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
)
from tests.upstream import payloads
from tests.upstream.conftest import (
    FakeNovita,
    MakeClient,
    SteppingClock,
    UpperBound,
    error_reply,
    reply,
)

GET = "/gpu/instance"
SERVER_ERROR = error_reply(500, "UNKNOWN", "boom")
DROPPED = httpx.RemoteProtocolError("Server disconnected without sending a response.")


class TestReads:
    async def test_transient_failures_are_retried_until_success(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(GET, SERVER_ERROR, httpx.ReadTimeout("slow"), reply(body=payloads.instance()))
        instance = await client.get_instance("3560b7fec915bbf9")
        assert instance.id == "3560b7fec915bbf9"
        assert len(novita.requests) == 3

    async def test_gives_up_after_max_attempts(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(GET, SERVER_ERROR)
        with pytest.raises(UpstreamServerError):
            await client.get_instance("x")
        assert len(novita.requests) == 3

    @pytest.mark.parametrize(
        "response",
        [
            error_reply(400, "RESOURCE_NOT_FOUND"),
            error_reply(401, "UNAUTHORIZED"),
            error_reply(400, "VALIDATOR_PARAM"),
        ],
    )
    async def test_4xx_is_final(
        self, response: httpx.Response, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(GET, response)
        with pytest.raises(UpstreamError):
            await client.get_instance("x")
        assert len(novita.requests) == 1


class TestBackoff:
    async def test_sleeps_grow_exponentially_under_the_cap(
        self, make_client: MakeClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        novita.on(GET, SERVER_ERROR)
        client = make_client(max_attempts=6, rng=UpperBound(), breaker_failure_threshold=100)
        with pytest.raises(UpstreamServerError):
            await client.get_instance("x")
        assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0]

    async def test_sleeps_are_jittered(
        self, make_client: MakeClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        novita.on(GET, SERVER_ERROR)
        client = make_client(max_attempts=4, rng=random.Random(3), breaker_failure_threshold=100)
        for _ in range(10):
            with pytest.raises(UpstreamServerError):
                await client.get_instance("x")
        firsts, seconds, thirds = clock.sleeps[0::3], clock.sleeps[1::3], clock.sleeps[2::3]
        for sleeps, ceiling in ((firsts, 0.5), (seconds, 1.0), (thirds, 2.0)):
            assert all(0 <= s <= ceiling for s in sleeps)
            assert len(set(sleeps)) == len(sleeps)

    async def test_retry_sleep_off_retries_without_sleeping(
        self, make_client: MakeClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        novita.on(GET, SERVER_ERROR, SERVER_ERROR, reply(body=payloads.instance()))
        await make_client(retry_sleep=False).get_instance("x")
        assert len(novita.requests) == 3
        assert clock.sleeps == []


class TestRetryAfter:
    async def test_seconds(
        self, client: NovitaClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        limited = error_reply(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "7"})
        novita.on(GET, limited, reply(body=payloads.instance()))
        await client.get_instance("x")
        assert clock.sleeps == [7.0]

    async def test_http_date(
        self, client: NovitaClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        when = email.utils.format_datetime(clock.now() + timedelta(seconds=12), usegmt=True)
        limited = error_reply(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": when})
        novita.on(GET, limited, reply(body=payloads.instance()))
        await client.get_instance("x")
        assert clock.sleeps == [12.0]

    async def test_too_long_is_not_waited_for(
        self, client: NovitaClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        novita.on(GET, error_reply(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "600"}))
        with pytest.raises(UpstreamRateLimited) as caught:
            await client.get_instance("x")
        assert caught.value.retry_after == 600.0
        assert clock.sleeps == []
        assert len(novita.requests) == 1

    async def test_missing_header_falls_back_to_backoff(
        self, make_client: MakeClient, novita: FakeNovita, clock: SteppingClock
    ) -> None:
        novita.on(GET, error_reply(429, "RATE_LIMIT_EXCEEDED"), reply(body=payloads.instance()))
        await make_client(rng=UpperBound()).get_instance("x")
        assert clock.sleeps == [0.5]


class TestMutations:
    @pytest.mark.parametrize("method", ["start_instance", "stop_instance", "delete_instance"])
    async def test_convergent_actions_retry_lost_answers(
        self, method: str, client: NovitaClient, novita: FakeNovita
    ) -> None:
        path = "/gpu/instance/" + method.removesuffix("_instance")
        novita.on(path, httpx.ReadTimeout("slow"), SERVER_ERROR, reply(body={"instanceId": "a"}))
        await getattr(client, method)("a")
        assert len(novita.calls(path)) == 3

    async def test_repeated_stop_after_a_lost_answer_surfaces_invalid_state(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        path = "/gpu/instance/stop"
        novita.on(path, DROPPED, httpx.Response(400, json={"message": "invalid state change"}))
        with pytest.raises(UpstreamInvalidState):
            await client.stop_instance("a")
        assert len(novita.calls(path)) == 2

    async def test_repeated_delete_after_a_lost_answer_surfaces_not_found(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on("/gpu/instance/delete", SERVER_ERROR, error_reply(400, "RESOURCE_NOT_FOUND"))
        with pytest.raises(UpstreamNotFound):
            await client.delete_instance("a")

    @pytest.mark.parametrize(
        "unsent",
        [
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("slow"),
            error_reply(429, "RATE_LIMIT_EXCEEDED"),
        ],
    )
    async def test_restart_retries_only_what_never_arrived(
        self, unsent: httpx.Response | Exception, client: NovitaClient, novita: FakeNovita
    ) -> None:
        path = "/gpu/instance/restart"
        novita.on(path, unsent, reply(body={"instanceId": "a", "state": "toRestart"}))
        assert (await client.restart_instance("a")).state == "toRestart"
        assert len(novita.calls(path)) == 2

    @pytest.mark.parametrize("maybe_sent", [httpx.ReadTimeout("slow"), DROPPED, SERVER_ERROR])
    async def test_restart_is_not_repeated_after_a_lost_answer(
        self, maybe_sent: httpx.Response | Exception, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on("/gpu/instance/restart", maybe_sent, reply(body={}))
        with pytest.raises(UpstreamError):
            await client.restart_instance("a")
        assert len(novita.requests) == 1

    @pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), DROPPED, SERVER_ERROR])
    async def test_migrate_is_never_retried(
        self, failure: httpx.Response | Exception, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on("/gpu/instance/migrate", failure, reply(body={}))
        with pytest.raises(UpstreamError):
            await client.migrate_instance("a")
        assert len(novita.requests) == 1


CREATE = "/gpu/instance/create"
REQUEST = CreateInstanceRequest(name="train-7", product_id="4090.16c62g", image_url="img")


class TestCreate:
    @pytest.mark.parametrize(
        "lost",
        [
            pytest.param(httpx.ReadTimeout("slow"), id="read-timeout"),
            pytest.param(httpx.WriteTimeout("slow"), id="write-timeout"),
            pytest.param(DROPPED, id="dropped"),
            pytest.param(httpx.ReadError("reset"), id="read-error"),
            pytest.param(SERVER_ERROR, id="500"),
            pytest.param(httpx.Response(502, text="bad gateway"), id="502"),
            pytest.param(httpx.Response(200, text="<html>"), id="2xx-not-json"),
            pytest.param(reply(body={}), id="2xx-without-id"),
        ],
    )
    async def test_lost_answer_is_outcome_unknown_and_not_resent(
        self, lost: httpx.Response | Exception, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on(CREATE, lost, reply(body={"id": "should-not-be-reached"}))
        with pytest.raises(CreateOutcomeUnknown) as caught:
            await client.create_instance(REQUEST)
        assert caught.value.instance_name == "train-7"
        assert caught.value.endpoint == "POST /gpu/instance/create"
        assert isinstance(caught.value.__cause__, UpstreamError)
        assert len(novita.requests) == 1

    @pytest.mark.parametrize(
        ("failure", "expected"),
        [
            pytest.param(httpx.ConnectError("refused"), UpstreamConnectionError, id="refused"),
            pytest.param(httpx.ConnectTimeout("slow"), UpstreamTimeout, id="connect-timeout"),
            pytest.param(
                error_reply(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "1"}),
                UpstreamRateLimited,
                id="429",
            ),
            pytest.param(
                error_reply(400, "INSUFFICIENT_RESOURCE"), UpstreamInsufficientResource, id="400"
            ),
        ],
    )
    async def test_failures_before_upstream_acted_are_plain_errors(
        self,
        failure: httpx.Response | Exception,
        expected: type[UpstreamError],
        client: NovitaClient,
        novita: FakeNovita,
    ) -> None:
        novita.on(CREATE, failure, reply(body={"id": "should-not-be-reached"}))
        with pytest.raises(expected) as caught:
            await client.create_instance(REQUEST)
        assert not isinstance(caught.value, CreateOutcomeUnknown)
        assert len(novita.requests) == 1
