"""Every failure is classified into the right error class, with its details."""

from __future__ import annotations

import httpx
import pytest

from novita_gpu.upstream import (
    UpstreamAuthError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamInvalidState,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRequestError,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamTransientError,
    UpstreamValidationError,
)
from tests.upstream.conftest import FakeNovita, MakeClient, error_reply

CLOUDFLARE_1010 = (
    "<!DOCTYPE html><html><head><title>Access denied | api.novita.ai used Cloudflare</title>"
    "<style>body{color:red}</style></head><body><h1>Error 1010</h1>"
    "<p>The owner of this website has banned your access based on your browser's signature"
    "</p></body></html>"
)


@pytest.mark.parametrize(
    ("response", "expected", "reason", "message"),
    [
        pytest.param(
            error_reply(401, "UNAUTHORIZED", "bad key"),
            UpstreamAuthError,
            "UNAUTHORIZED",
            "bad key",
            id="401",
        ),
        pytest.param(error_reply(403, "FORBIDDEN"), UpstreamAuthError, "FORBIDDEN", None, id="403"),
        pytest.param(
            httpx.Response(403, text=CLOUDFLARE_1010),
            UpstreamAuthError,
            None,
            "Access denied | api.novita.ai used Cloudflare Error 1010 The owner of this website "
            "has banned your access based on your browser's signature",
            id="cloudflare-html",
        ),
        pytest.param(httpx.Response(404, text=""), UpstreamNotFound, None, None, id="404-empty"),
        pytest.param(
            error_reply(400, "RESOURCE_NOT_FOUND", "container not found"),
            UpstreamNotFound,
            "RESOURCE_NOT_FOUND",
            "container not found",
            id="400-resource",
        ),
        pytest.param(
            error_reply(400, "JOB_NOT_FOUND"), UpstreamNotFound, "JOB_NOT_FOUND", None, id="400-job"
        ),
        pytest.param(
            error_reply(400, "TEMPLATE_NOT_FOUND"),
            UpstreamNotFound,
            "TEMPLATE_NOT_FOUND",
            None,
            id="400-template",
        ),
        pytest.param(
            httpx.Response(400, json={"message": "invalid state change"}),
            UpstreamInvalidState,
            None,
            "invalid state change",
            id="bare-message",
        ),
        pytest.param(
            error_reply(400, "CONFLICT", "Invalid State Change: running"),
            UpstreamInvalidState,
            "CONFLICT",
            "Invalid State Change: running",
            id="invalid-state-any-case",
        ),
        pytest.param(
            error_reply(400, "INSUFFICIENT_RESOURCE"),
            UpstreamInsufficientResource,
            "INSUFFICIENT_RESOURCE",
            None,
            id="insufficient",
        ),
        pytest.param(
            error_reply(400, "MIGRATE_INSUFFICIENT_RESOURCE"),
            UpstreamInsufficientResource,
            "MIGRATE_INSUFFICIENT_RESOURCE",
            None,
            id="migrate-insufficient",
        ),
        pytest.param(
            error_reply(400, "VALIDATOR_PARAM", "gpuNum out of range"),
            UpstreamValidationError,
            "VALIDATOR_PARAM",
            "gpuNum out of range",
            id="validator",
        ),
        pytest.param(
            error_reply(400, "REQUEST"), UpstreamValidationError, "REQUEST", None, id="request"
        ),
        pytest.param(
            error_reply(400, "BALANCE_NOT_ENOUGH", "top up"),
            UpstreamRequestError,
            "BALANCE_NOT_ENOUGH",
            "top up",
            id="other-400",
        ),
        pytest.param(
            httpx.Response(400, json=["odd"]),
            UpstreamRequestError,
            None,
            '["odd"]',
            id="non-object-json",
        ),
        pytest.param(
            error_reply(500, "UNKNOWN", "boom"), UpstreamServerError, "UNKNOWN", "boom", id="500"
        ),
        pytest.param(
            httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>"),
            UpstreamServerError,
            None,
            "502 Bad Gateway",
            id="502-html",
        ),
        pytest.param(httpx.Response(503), UpstreamServerError, None, None, id="503-empty"),
        pytest.param(
            error_reply(429, "RATE_LIMIT_EXCEEDED"),
            UpstreamRateLimited,
            "RATE_LIMIT_EXCEEDED",
            None,
            id="429",
        ),
        pytest.param(httpx.Response(408), UpstreamTimeout, None, None, id="408"),
    ],
)
async def test_responses(
    response: httpx.Response,
    expected: type[UpstreamError],
    reason: str | None,
    message: str | None,
    make_client: MakeClient,
    novita: FakeNovita,
) -> None:
    novita.on("/gpu/instance", response)
    with pytest.raises(UpstreamError) as caught:
        await make_client(max_attempts=1).get_instance("abc")
    error = caught.value
    assert type(error) is expected
    assert (error.endpoint, error.status_code) == ("GET /gpu/instance", response.status_code)
    assert (error.reason, error.upstream_message) == (reason, message)
    assert error.maybe_applied is (response.status_code >= 500)
    assert str(error).startswith(f"GET /gpu/instance: HTTP {response.status_code}")


@pytest.mark.parametrize(
    ("exc", "expected", "maybe_applied"),
    [
        pytest.param(
            httpx.ConnectError("refused"), UpstreamConnectionError, False, id="connect-error"
        ),
        pytest.param(httpx.ConnectTimeout("slow"), UpstreamTimeout, False, id="connect-timeout"),
        pytest.param(httpx.PoolTimeout("pool"), UpstreamTimeout, False, id="pool-timeout"),
        pytest.param(httpx.ReadTimeout("slow"), UpstreamTimeout, True, id="read-timeout"),
        pytest.param(httpx.WriteTimeout("slow"), UpstreamTimeout, True, id="write-timeout"),
        pytest.param(httpx.ReadError("reset"), UpstreamConnectionError, True, id="read-error"),
        pytest.param(
            httpx.WriteError("broken pipe"), UpstreamConnectionError, True, id="write-error"
        ),
        pytest.param(
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            UpstreamConnectionError,
            True,
            id="dropped",
        ),
        pytest.param(httpx.UnsupportedProtocol("ftp"), UpstreamError, True, id="other"),
    ],
)
async def test_transport_failures(
    exc: Exception,
    expected: type[UpstreamError],
    maybe_applied: bool,
    make_client: MakeClient,
    novita: FakeNovita,
) -> None:
    novita.on("/gpu/instance", exc)
    with pytest.raises(UpstreamError) as caught:
        await make_client(max_attempts=1).get_instance("abc")
    error = caught.value
    assert type(error) is expected
    assert error.maybe_applied is maybe_applied
    assert error.status_code is None
    assert error.__cause__ is None
    assert type(exc).__name__ in str(error)


def test_transient_and_final_branches() -> None:
    for transient in (
        UpstreamTimeout,
        UpstreamConnectionError,
        UpstreamServerError,
        UpstreamRateLimited,
    ):
        assert issubclass(transient, UpstreamTransientError)
    for final in (
        UpstreamAuthError,
        UpstreamNotFound,
        UpstreamInvalidState,
        UpstreamInsufficientResource,
        UpstreamValidationError,
    ):
        assert issubclass(final, UpstreamRequestError)
        assert not issubclass(final, UpstreamTransientError)


async def test_rate_limited_carries_retry_after(
    make_client: MakeClient, novita: FakeNovita
) -> None:
    novita.on("/gpu/instance", error_reply(429, "RATE_LIMIT_EXCEEDED", **{"Retry-After": "17"}))
    with pytest.raises(UpstreamRateLimited) as caught:
        await make_client(max_attempts=1).get_instance("abc")
    assert caught.value.retry_after == 17.0
    assert caught.value.maybe_applied is False
