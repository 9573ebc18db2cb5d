"""The SDK's exception tree. Every failure a caller can see is a :class:`NovitaGPUError`.

::

    NovitaGPUError               .code .message .status_code .details .request_id
    ├── ValidationError          400 VALIDATION_ERROR, INVALID_JSON; 413 PAYLOAD_TOO_LARGE
    ├── AuthenticationError      401 UNAUTHORIZED, 403 FORBIDDEN
    ├── NotFoundError            404 INSTANCE_NOT_FOUND, TEMPLATE_NOT_FOUND, PRODUCT_NOT_FOUND, ...
    ├── ConflictError            409 NAME_TAKEN, INSTANCE_NOT_STARTABLE, OPERATION_IN_PROGRESS, ...
    ├── NoCapacityError          422 NO_AVAILABLE_PRODUCT, INSUFFICIENT_RESOURCE
    ├── SpendLimitError          422 SPEND_LIMIT_EXCEEDED
    ├── RateLimitedError         429 RATE_LIMITED                          .retry_after
    ├── UpstreamError            502 / 503 / 504 (Novita failed or is unreachable) .retry_after
    ├── NetworkError             the server itself could not be reached (no status code)
    ├── InvalidResponseError     a success response the SDK could not read
    ├── WaitError                a wait ended without reaching its status       .instance
    │   ├── WaitTimeout          the deadline passed
    │   └── InstanceFailedError  the instance ended failed, terminated or deleted
    ├── RemoteError              SSH to an instance failed: SSH_UNAVAILABLE, SSH_NO_DETAILS,
    │   │                        SSH_HOST_KEY, FILE_TRANSFER_FAILED
    │   └── CommandTimeout       a remote command outlived its timeout (COMMAND_TIMEOUT)
    └── CleanupError             an ephemeral instance was not confirmed deleted  .instance_id

A server error code the SDK does not know falls back to the class of its HTTP status, so a
newer server never breaks ``except NotFoundError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from novita_gpu.client._models import Instance


class NovitaGPUError(Exception):
    """Base of every SDK error. ``str(error)`` is ``"CODE: message"``."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "ERROR",
        status_code: int | None = None,
        details: Any = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationError(NovitaGPUError):
    """The request was refused as malformed; ``details`` lists ``{field, message}``."""


class AuthenticationError(NovitaGPUError):
    """Missing, wrong or insufficient API token."""


class NotFoundError(NovitaGPUError):
    """No such instance, template, product or route."""


class ConflictError(NovitaGPUError):
    """The request clashes with the current state (name taken, wrong status, key reused)."""


class NoCapacityError(NovitaGPUError):
    """No offer can take the request; ``details`` gives the reason per region."""


class SpendLimitError(NovitaGPUError):
    """The request would push spend over the server's hourly limit."""


class _RetryAfterError(NovitaGPUError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(_RetryAfterError):
    """Too many requests; ``retry_after`` is the server's hint in seconds, if given."""


class UpstreamError(_RetryAfterError):
    """Novita (or the server in front of it) failed: 502, 503 or 504."""


class NetworkError(NovitaGPUError):
    """The server could not be reached, or the connection broke, after every retry."""


class InvalidResponseError(NovitaGPUError):
    """A success response was not the JSON the SDK expects (wrong server or proxy page)."""


class WaitError(NovitaGPUError):
    """A wait ended without the instance reaching its status; ``instance`` is the last seen."""

    def __init__(self, message: str, *, instance: Instance, code: str) -> None:
        super().__init__(message, code=code)
        self.instance = instance


class WaitTimeout(WaitError):
    """The deadline passed first; the instance may still get there."""


class InstanceFailedError(WaitError):
    """The instance ended ``failed``, ``terminated`` or ``deleted``; see ``instance.last_error``."""


class RemoteError(NovitaGPUError):
    """Reaching an instance over SSH, or copying files to or from it, failed."""


class CommandTimeout(RemoteError):
    """A remote command ran longer than its ``timeout`` and was stopped."""


class CleanupError(NovitaGPUError):
    """An ephemeral instance could not be confirmed deleted: it may still be running (and
    billed) until the server's safety net (``maxRuntimeMinutes``, ``autoDelete``) ends it."""

    def __init__(self, message: str, *, instance_id: str | None, code: str) -> None:
        super().__init__(message, code=code)
        self.instance_id = instance_id


_BY_CODE: dict[str, type[NovitaGPUError]] = {
    "VALIDATION_ERROR": ValidationError,
    "INVALID_JSON": ValidationError,
    "PAYLOAD_TOO_LARGE": ValidationError,
    "UNAUTHORIZED": AuthenticationError,
    "FORBIDDEN": AuthenticationError,
    "NOT_FOUND": NotFoundError,
    "INSTANCE_NOT_FOUND": NotFoundError,
    "TEMPLATE_NOT_FOUND": NotFoundError,
    "PRODUCT_NOT_FOUND": NotFoundError,
    "NAME_TAKEN": ConflictError,
    "INSTANCE_NOT_STARTABLE": ConflictError,
    "INSTANCE_NOT_STOPPABLE": ConflictError,
    "OPERATION_IN_PROGRESS": ConflictError,
    "IDEMPOTENCY_KEY_REUSED": ConflictError,
    "INSTANCE_ALREADY_MANAGED": ConflictError,
    "NO_AVAILABLE_PRODUCT": NoCapacityError,
    "INSUFFICIENT_RESOURCE": NoCapacityError,
    "SPEND_LIMIT_EXCEEDED": SpendLimitError,
    "RATE_LIMITED": RateLimitedError,
    "UPSTREAM_ERROR": UpstreamError,
    "UPSTREAM_AUTH_FAILED": UpstreamError,
    "UPSTREAM_UNAVAILABLE": UpstreamError,
    "UPSTREAM_TIMEOUT": UpstreamError,
}

_BY_STATUS: dict[int, type[NovitaGPUError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    429: RateLimitedError,
    502: UpstreamError,
    503: UpstreamError,
    504: UpstreamError,
}


def error_class(code: str, status_code: int) -> type[NovitaGPUError]:
    """The class for a server error: by code, else by HTTP status, else the base."""
    return _BY_CODE.get(code) or _BY_STATUS.get(status_code) or NovitaGPUError
