"""The hook through which every upstream attempt is reported (for Prometheus metrics).

The client calls ``observer(endpoint, outcome, seconds)`` once per attempt, retries included:
``endpoint`` is the route label (``"GET /gpu/instances"``, never an id), ``outcome`` one of
:class:`CallOutcome`, ``seconds`` the attempt's duration on the client's clock (0 for a call
the breaker refused).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from novita_gpu.upstream.errors import (
    UpstreamCircuitOpen,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRequestError,
    UpstreamServerError,
    UpstreamTimeout,
)


class CallOutcome(StrEnum):
    """How an attempt ended."""

    OK = "ok"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    CLIENT_ERROR = "client_error"
    CIRCUIT_OPEN = "circuit_open"
    ERROR = "error"


class CallObserver(Protocol):
    """Receives one report per attempt. It must be quick and must not raise."""

    def __call__(self, endpoint: str, outcome: str, seconds: float, /) -> None: ...


_OUTCOMES: tuple[tuple[type[UpstreamError], CallOutcome], ...] = (
    (UpstreamTimeout, CallOutcome.TIMEOUT),
    (UpstreamConnectionError, CallOutcome.CONNECTION_ERROR),
    (UpstreamServerError, CallOutcome.SERVER_ERROR),
    (UpstreamRateLimited, CallOutcome.RATE_LIMITED),
    (UpstreamRequestError, CallOutcome.CLIENT_ERROR),
    (UpstreamCircuitOpen, CallOutcome.CIRCUIT_OPEN),
)


def outcome_of(error: UpstreamError) -> CallOutcome:
    """The outcome label for a failed attempt."""
    return next((label for cls, label in _OUTCOMES if isinstance(error, cls)), CallOutcome.ERROR)
