"""Errors raised by the upstream (Novita) client.

Every failure of a call is classified once, here, into one of these classes::

    UpstreamError                     (base: .endpoint, .status_code, .reason, .upstream_message)
    ├── UpstreamTransientError        retried for idempotent calls; counts against the breaker
    │   ├── UpstreamTimeout           connect/read/write/pool timeout, or HTTP 408
    │   ├── UpstreamConnectionError   refused or dropped connection, ReadError, RemoteProtocolError
    │   ├── UpstreamServerError       HTTP 5xx
    │   └── UpstreamRateLimited       HTTP 429 (.retry_after seconds | None)
    ├── UpstreamRequestError          a final 4xx: never retried, never opens the breaker
    │   ├── UpstreamAuthError         401 / 403
    │   ├── UpstreamNotFound          404, or 400 RESOURCE_NOT_FOUND / JOB_NOT_FOUND /
    │   │                             TEMPLATE_NOT_FOUND (Novita reports not-found as 400)
    │   ├── UpstreamInvalidState      400 "invalid state change"
    │   ├── UpstreamInsufficientResource  INSUFFICIENT_RESOURCE / MIGRATE_INSUFFICIENT_RESOURCE
    │   └── UpstreamValidationError   VALIDATOR_PARAM / REQUEST
    ├── UpstreamDecodeError           a 2xx whose body is not the documented shape
    ├── UpstreamPagingError           a paged listing did not end within its page budget
    ├── UpstreamCircuitOpen           the breaker is open; no request was sent (.retry_after)
    └── CreateOutcomeUnknown          a create that may or may not have happened (.instance_name)

``maybe_applied`` tells whether upstream may have acted on the request: ``False`` when it
certainly did not (nothing was sent, the connection was refused, a 429 or a 4xx rejected it),
``True`` when the request went out and the answer was lost (read timeout, dropped connection,
5xx). It decides which mutations may be retried and when a create's outcome is unknown.

``UpstreamError`` itself is raised for transport failures that fit nowhere else (an unsupported
protocol, an undecodable body); it is not retried.

No error carries request headers, so the API key never reaches a message or a log line.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A call to Novita failed.

    ``endpoint`` is the route label (``"GET /gpu/instances"``); ``status_code`` is the HTTP
    status when a response arrived; ``reason`` and ``upstream_message`` come from Novita's error
    body (``{code, reason, message, metadata}``) when it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status_code: int | None = None,
        reason: str | None = None,
        upstream_message: str | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status_code = status_code
        self.reason = reason
        self.upstream_message = upstream_message
        self.maybe_applied = maybe_applied


class UpstreamTransientError(UpstreamError):
    """A failure that may pass if the call is repeated later."""


class UpstreamTimeout(UpstreamTransientError):
    """The request timed out (before sending when ``maybe_applied`` is false)."""


class UpstreamConnectionError(UpstreamTransientError):
    """The connection failed or dropped (before sending when ``maybe_applied`` is false)."""


class UpstreamServerError(UpstreamTransientError):
    """Novita (or Cloudflare in front of it) answered 5xx."""


class UpstreamRateLimited(UpstreamTransientError):
    """Novita answered 429. ``retry_after`` is its ``Retry-After`` in seconds, if it sent one."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        retry_after: float | None = None,
        reason: str | None = None,
        upstream_message: str | None = None,
    ) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            status_code=429,
            reason=reason,
            upstream_message=upstream_message,
        )
        self.retry_after = retry_after


class UpstreamRequestError(UpstreamError):
    """Novita refused the request (4xx). Repeating it unchanged gives the same answer."""


class UpstreamAuthError(UpstreamRequestError):
    """The API key is missing, wrong or not allowed to do this (401/403, or Cloudflare's 403)."""


class UpstreamNotFound(UpstreamRequestError):
    """The addressed instance, job or template does not exist (404 or 400 *_NOT_FOUND)."""


class UpstreamInvalidState(UpstreamRequestError):
    """The instance is in a state that does not allow the action (e.g. start while running)."""


class UpstreamInsufficientResource(UpstreamRequestError):
    """No capacity for the create, start or migrate."""


class UpstreamValidationError(UpstreamRequestError):
    """Novita rejected a parameter."""


class UpstreamDecodeError(UpstreamError):
    """A successful response whose body could not be read as the documented shape."""


class UpstreamPagingError(UpstreamError):
    """A paged listing was cut off at its page budget, so it is not the whole list."""


class UpstreamCircuitOpen(UpstreamError):
    """The breaker is open: the call failed fast without touching the network.

    ``retry_after`` is how many seconds remain until the breaker lets a trial call through.
    """

    def __init__(self, *, endpoint: str, retry_after: float) -> None:
        super().__init__(
            f"{endpoint}: upstream circuit open, retry in {retry_after:.1f}s", endpoint=endpoint
        )
        self.retry_after = retry_after


class CreateOutcomeUnknown(UpstreamError):
    """A create was sent but its answer was lost, so the instance may or may not exist.

    The caller must look the instance up by ``instance_name``
    (:meth:`~novita_gpu.upstream.client.NovitaClient.resolve_unknown_create`) before anything is
    re-sent. The lost answer's own error is ``__cause__``.
    """

    def __init__(self, *, instance_name: str, cause: UpstreamError) -> None:
        super().__init__(
            f"{cause.endpoint}: outcome of creating {instance_name!r} unknown ({cause})",
            endpoint=cause.endpoint,
            status_code=cause.status_code,
            reason=cause.reason,
            upstream_message=cause.upstream_message,
            maybe_applied=True,
        )
        self.instance_name = instance_name
        self.__cause__ = cause
