"""Retries: safe requests are repeated on network errors, 429 and 503, honouring Retry-After,
a bounded number of times; everything else fails at once."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from novita_gpu.client import Client, NetworkError, Retries, UpstreamError
from novita_gpu.client._config import parse_retry_after
from tests.client.conftest import Recorder, error_json, instance_json

OK = httpx.Response(200, json=instance_json())
CREATED = httpx.Response(
    201, json={"instanceId": "inst_1", "status": "creating", "instance": instance_json()}
)


def unavailable(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return httpx.Response(503, json=error_json("UPSTREAM_UNAVAILABLE"), headers=headers)


def test_503_with_retry_after_is_retried_after_that_long(
    client: Client, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.reply(unavailable("2"), OK)
    assert client.get_instance("inst_1").id == "inst_1"
    assert len(recorder.requests) == 2
    assert sleeps == [2.0]


def test_429_without_retry_after_backs_off_exponentially(
    client: Client, recorder: Recorder, sleeps: list[float]
) -> None:
    limited = httpx.Response(429, json=error_json("RATE_LIMITED"))
    recorder.reply(limited, limited, OK)
    client.get_instance("inst_1")
    assert sleeps == [0.5, 1.0]


def test_gives_up_after_max_attempts_with_the_last_error(
    client: Client, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.reply(unavailable("1"))
    with pytest.raises(UpstreamError) as caught:
        client.get_instance("inst_1")
    assert len(recorder.requests) == 3
    assert sleeps == [1.0, 1.0]
    assert caught.value.retry_after == 1.0


def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    client: Client, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.reply(unavailable("3600"))
    with pytest.raises(UpstreamError):
        client.get_instance("inst_1")
    assert len(recorder.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "status", [pytest.param(s, id=str(s)) for s in (400, 404, 409, 422, 500, 502, 504)]
)
def test_other_statuses_are_not_retried(client: Client, recorder: Recorder, status: int) -> None:
    recorder.reply(httpx.Response(status, json=error_json("X")))
    with pytest.raises(Exception):  # noqa: B017, PT011 - the class is tested elsewhere
        client.get_instance("inst_1")
    assert len(recorder.requests) == 1


def test_connect_errors_are_retried_then_raised_as_network_error(
    client: Client, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.reply(httpx.ConnectError("refused"))
    with pytest.raises(NetworkError) as caught:
        client.get_instance("inst_1")
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2
    assert caught.value.code == "NETWORK_ERROR"
    assert "refused" in caught.value.message


def test_a_read_timeout_is_reported_as_timed_out(client: Client, recorder: Recorder) -> None:
    client.retries = Retries.disabled()
    recorder.reply(httpx.ReadTimeout("slow"))
    with pytest.raises(NetworkError, match="timed out"):
        client.get_instance("inst_1")


def test_a_retried_create_resends_the_same_key_and_body(client: Client, recorder: Recorder) -> None:
    recorder.reply(httpx.ConnectError("refused"), unavailable("0"), CREATED)
    client.create_instance("job-1", "RTX 4090 24GB", "pytorch-jupyter")
    keys = {request.headers["Idempotency-Key"] for request in recorder.requests}
    bodies = {request.content for request in recorder.requests}
    assert len(recorder.requests) == 3
    assert len(keys) == 1
    assert len(bodies) == 1


def test_actions_are_retried(client: Client, recorder: Recorder) -> None:
    action = {"instanceId": "inst_1", "status": "stopping", "instance": instance_json()}
    recorder.reply(unavailable("0"), httpx.Response(202, json=action))
    assert client.stop_instance("inst_1").status == "stopping"
    assert len(recorder.requests) == 2


def test_retries_can_be_turned_off(recorder: Recorder) -> None:
    recorder.reply(unavailable("0"))
    sdk = Client(
        "http://x.test", transport=httpx.MockTransport(recorder), retries=Retries.disabled()
    )
    with sdk, pytest.raises(UpstreamError):
        sdk.get_instance("inst_1")
    assert len(recorder.requests) == 1


class TestPolicy:
    def test_backoff_is_capped_and_jittered_upwards(self) -> None:
        retries = Retries(backoff=1, max_backoff=4, jitter=0.5, max_attempts=10)
        assert 1 <= retries.backoff_for(1) <= 1.5
        assert 4 <= retries.backoff_for(8) <= 6

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("5", 5.0, id="seconds"),
            pytest.param("1.5", 1.5, id="fraction"),
            pytest.param("-3", 0.0, id="negative"),
            pytest.param("soon", None, id="garbage"),
            pytest.param(None, None, id="absent"),
            pytest.param("Wed, 01 Jan 2025 00:00:10 GMT", 10.0, id="http-date"),
        ],
    )
    def test_parse_retry_after(self, value: str | None, expected: float | None) -> None:
        now = datetime(2025, 1, 1, tzinfo=UTC)
        assert parse_retry_after(value, now) == expected
