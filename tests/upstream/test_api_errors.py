"""Mapping upstream client errors to client-visible service errors."""

from __future__ import annotations

import pytest

from novita_gpu.core.errors import (
    InsufficientResource,
    ServiceError,
    TemplateNotFound,
    UpstreamAuthFailed,
    UpstreamFailed,
    UpstreamTimedOut,
    UpstreamUnavailable,
)
from novita_gpu.upstream import (
    UpstreamAuthError,
    UpstreamCircuitOpen,
    UpstreamConnectionError,
    UpstreamDecodeError,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
)
from novita_gpu.upstream.api_errors import (
    upstream_error_to_service_error,
    upstream_errors_as_service_errors,
)

EP = "GET /products"


@pytest.mark.parametrize(
    ("error", "expected", "retry_after"),
    [
        pytest.param(
            UpstreamCircuitOpen(endpoint=EP, retry_after=12.2),
            UpstreamUnavailable,
            "13",
            id="breaker-open",
        ),
        pytest.param(
            UpstreamRateLimited("429", endpoint=EP, retry_after=7),
            UpstreamUnavailable,
            "7",
            id="rate-limited",
        ),
        pytest.param(
            UpstreamRateLimited("429", endpoint=EP),
            UpstreamUnavailable,
            "5",
            id="rate-limited-no-header",
        ),
        pytest.param(
            UpstreamServerError("503", endpoint=EP, status_code=503),
            UpstreamUnavailable,
            "5",
            id="server-error",
        ),
        pytest.param(
            UpstreamConnectionError("reset", endpoint=EP), UpstreamUnavailable, "5", id="connection"
        ),
        pytest.param(UpstreamTimeout("slow", endpoint=EP), UpstreamTimedOut, None, id="timeout"),
        pytest.param(
            UpstreamInsufficientResource("full", endpoint=EP, status_code=400),
            InsufficientResource,
            None,
            id="insufficient",
        ),
        pytest.param(
            UpstreamAuthError("key", endpoint=EP, status_code=401),
            UpstreamAuthFailed,
            None,
            id="auth",
        ),
        pytest.param(
            UpstreamNotFound("gone", endpoint=EP, status_code=400),
            UpstreamFailed,
            None,
            id="not-found-left-to-callers",
        ),
        pytest.param(UpstreamDecodeError("bad", endpoint=EP), UpstreamFailed, None, id="decode"),
    ],
)
def test_each_upstream_error_maps_to_its_service_error(
    error: UpstreamError, expected: type[ServiceError], retry_after: str | None
) -> None:
    mapped = upstream_error_to_service_error(error)

    assert type(mapped) is expected
    assert mapped.headers.get("Retry-After") == retry_after


def test_details_carry_what_upstream_said() -> None:
    error = UpstreamAuthError(
        "GET /products: HTTP 403",
        endpoint=EP,
        status_code=403,
        reason="FORBIDDEN",
        upstream_message="not permitted",
    )

    mapped = upstream_error_to_service_error(error)

    assert (mapped.status_code, mapped.code) == (502, "UPSTREAM_AUTH_FAILED")
    assert mapped.message.startswith("Novita rejected the API key")
    assert mapped.details == {
        "endpoint": EP,
        "status": 403,
        "reason": "FORBIDDEN",
        "message": "not permitted",
    }


def test_the_context_manager_chains_and_leaves_service_errors_alone() -> None:
    cause = UpstreamTimeout("slow", endpoint=EP)
    with pytest.raises(UpstreamTimedOut) as caught, upstream_errors_as_service_errors():
        raise cause
    assert caught.value.__cause__ is cause

    with pytest.raises(TemplateNotFound), upstream_errors_as_service_errors():
        raise TemplateNotFound()
