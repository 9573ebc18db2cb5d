"""Turn upstream client failures into client-visible :class:`ServiceError` s.

=====================================  =========================================  ======
upstream error                         service error                              status
=====================================  =========================================  ======
UpstreamCircuitOpen                    UpstreamUnavailable, ``Retry-After``        503
UpstreamRateLimited                    UpstreamUnavailable, ``Retry-After``        503
UpstreamTimeout                        UpstreamTimedOut                           504
other UpstreamTransientError           UpstreamUnavailable, ``Retry-After``        503
UpstreamInsufficientResource           InsufficientResource                       422
anything else (4xx, undecodable, ...)  UpstreamFailed                             502
=====================================  =========================================  ======

The transient kinds arrive here only after the client's retries are spent, so they say
"try again later" (503) rather than "upstream is broken" (502). Not-found is deliberately not
special-cased: only the caller knows what was not found (a template, an instance), so callers
catch :class:`~novita_gpu.upstream.UpstreamNotFound` first and raise their own 404.

``details`` carries what upstream said (``endpoint``, ``status``, ``reason``, ``message``) and
never request headers, so the API key cannot leak through it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from novita_gpu.core.errors import (
    InsufficientResource,
    ServiceError,
    UpstreamFailed,
    UpstreamTimedOut,
    UpstreamUnavailable,
)
from novita_gpu.upstream import (
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamTransientError,
)

DEFAULT_RETRY_AFTER_SECONDS = 5
"""``Retry-After`` when upstream failed transiently without saying how long to wait."""


def upstream_details(exc: UpstreamError) -> dict[str, Any]:
    """What upstream reported about ``exc``: endpoint, HTTP status, reason and message."""
    return {
        "endpoint": exc.endpoint,
        "status": exc.status_code,
        "reason": exc.reason,
        "message": exc.upstream_message,
    }


def retry_after_header(seconds: float | None) -> dict[str, str]:
    """``{"Retry-After": "<whole seconds, at least 1>"}``; the default when ``seconds`` is None."""
    wait = DEFAULT_RETRY_AFTER_SECONDS if seconds is None else max(1, math.ceil(seconds))
    return {"Retry-After": str(wait)}


def upstream_error_to_service_error(exc: UpstreamError) -> ServiceError:
    """The service error to show a client for ``exc`` (see the module table)."""
    details = upstream_details(exc)
    if isinstance(exc, UpstreamCircuitOpen):
        return UpstreamUnavailable(
            "Novita API circuit breaker is open; try again later",
            details=details,
            headers=retry_after_header(exc.retry_after),
        )
    if isinstance(exc, UpstreamTimeout):
        return UpstreamTimedOut(details=details)
    if isinstance(exc, UpstreamTransientError):
        retry_after = exc.retry_after if isinstance(exc, UpstreamRateLimited) else None
        return UpstreamUnavailable(details=details, headers=retry_after_header(retry_after))
    if isinstance(exc, UpstreamInsufficientResource):
        return InsufficientResource(details=details)
    return UpstreamFailed(details=details)


@contextmanager
def upstream_errors_as_service_errors() -> Iterator[None]:
    """Re-raise any :class:`UpstreamError` from the block as its service error (chained)."""
    try:
        yield
    except UpstreamError as exc:
        raise upstream_error_to_service_error(exc) from exc
