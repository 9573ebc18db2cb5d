"""Error responses become typed exceptions: by code, else by status, never a bare KeyError."""

from __future__ import annotations

import httpx
import pytest

from novita_gpu.client import (
    AuthenticationError,
    Client,
    ConflictError,
    InvalidResponseError,
    NoCapacityError,
    NotFoundError,
    NovitaGPUError,
    RateLimitedError,
    SpendLimitError,
    UpstreamError,
    ValidationError,
)
from tests.client.conftest import Recorder, error_json


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        pytest.param(400, "VALIDATION_ERROR", ValidationError, id="validation"),
        pytest.param(400, "INVALID_JSON", ValidationError, id="invalid-json"),
        pytest.param(413, "PAYLOAD_TOO_LARGE", ValidationError, id="too-large"),
        pytest.param(401, "UNAUTHORIZED", AuthenticationError, id="unauthorized"),
        pytest.param(403, "FORBIDDEN", AuthenticationError, id="forbidden"),
        pytest.param(404, "INSTANCE_NOT_FOUND", NotFoundError, id="instance-not-found"),
        pytest.param(404, "TEMPLATE_NOT_FOUND", NotFoundError, id="template-not-found"),
        pytest.param(409, "NAME_TAKEN", ConflictError, id="name-taken"),
        pytest.param(409, "INSTANCE_NOT_STARTABLE", ConflictError, id="not-startable"),
        pytest.param(409, "IDEMPOTENCY_KEY_REUSED", ConflictError, id="key-reused"),
        pytest.param(422, "NO_AVAILABLE_PRODUCT", NoCapacityError, id="no-product"),
        pytest.param(422, "INSUFFICIENT_RESOURCE", NoCapacityError, id="no-resource"),
        pytest.param(422, "SPEND_LIMIT_EXCEEDED", SpendLimitError, id="spend"),
        pytest.param(429, "RATE_LIMITED", RateLimitedError, id="rate-limited"),
        pytest.param(502, "UPSTREAM_ERROR", UpstreamError, id="upstream-error"),
        pytest.param(503, "UPSTREAM_UNAVAILABLE", UpstreamError, id="upstream-unavailable"),
        pytest.param(504, "UPSTREAM_TIMEOUT", UpstreamError, id="upstream-timeout"),
        pytest.param(409, "SOMETHING_NEW", ConflictError, id="unknown-code-by-status"),
        pytest.param(500, "INTERNAL_ERROR", NovitaGPUError, id="internal"),
    ],
)
def test_codes_map_to_classes(
    client: Client,
    recorder: Recorder,
    status: int,
    code: str,
    expected: type[NovitaGPUError],
) -> None:
    details = [{"field": "name", "message": "bad"}]
    recorder.reply(httpx.Response(status, json=error_json(code, "it broke", details=details)))
    client.retries = client.retries.disabled()
    with pytest.raises(expected) as caught:
        client.get_instance("inst_1")
    error = caught.value
    assert type(error) is expected
    assert (error.code, error.message, error.status_code) == (code, "it broke", status)
    assert error.details == details
    assert error.request_id == "req-1"
    assert str(error) == f"{code}: it broke"


def test_retry_after_is_exposed(client: Client, recorder: Recorder) -> None:
    client.retries = client.retries.disabled()
    recorder.reply(
        httpx.Response(429, json=error_json("RATE_LIMITED"), headers={"Retry-After": "7"})
    )
    with pytest.raises(RateLimitedError) as caught:
        client.get_instance("inst_1")
    assert caught.value.retry_after == 7.0


def test_a_non_json_error_page_still_maps_by_status(client: Client, recorder: Recorder) -> None:
    recorder.reply(
        httpx.Response(502, text="<html>Bad Gateway</html>", headers={"X-Request-ID": "r-9"})
    )
    with pytest.raises(UpstreamError) as caught:
        client.get_instance("inst_1")
    assert caught.value.code == "HTTP_502"
    assert caught.value.message == "Bad Gateway"
    assert caught.value.request_id == "r-9"


def test_an_old_string_error_shape_keeps_its_message(client: Client, recorder: Recorder) -> None:
    recorder.reply(httpx.Response(404, json={"error": "Instance not found"}))
    with pytest.raises(NotFoundError, match="Instance not found"):
        client.get_instance("inst_1")


def test_a_success_that_is_not_json_is_an_invalid_response(
    client: Client, recorder: Recorder
) -> None:
    recorder.reply(httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(InvalidResponseError) as caught:
        client.get_instance("inst_1")
    assert caught.value.code == "INVALID_RESPONSE"


def test_a_success_of_the_wrong_shape_is_an_invalid_response(
    client: Client, recorder: Recorder
) -> None:
    recorder.reply(httpx.Response(200, json={"hello": "world"}))
    with pytest.raises(InvalidResponseError) as caught:
        client.get_instance("inst_1")
    assert caught.value.details


def test_get_by_name_with_no_match_is_not_found(client: Client, recorder: Recorder) -> None:
    recorder.reply(httpx.Response(200, json={"instances": [], "total": 0}))
    with pytest.raises(NotFoundError) as caught:
        client.get_instance_by_name("ghost")
    assert caught.value.code == "INSTANCE_NOT_FOUND"
