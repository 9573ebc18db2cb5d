"""The service's error tree: one class per public error code, the HTTP status on the class.

Every error a client can see is a :class:`ServiceError`. The app's exception handlers render
each one as the error envelope::

    {"error": {"code", "message", "details", "requestId", "timestamp"}}

An expected condition is never a 500; :class:`InternalError` exists only for the unexpected.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base for every client-visible failure.

    ``details`` is JSON-serialisable context for the client; ``headers`` are added to the
    response (``Retry-After`` for 429/503).
    """

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class InternalError(ServiceError):
    status_code = 500
    code = "INTERNAL_ERROR"


# 400
class ValidationFailed(ServiceError):
    """Body, query or path failed validation; ``details`` lists ``{field, message}``."""

    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "Request validation failed"

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class InvalidJson(ServiceError):
    status_code = 400
    code = "INVALID_JSON"
    default_message = "Request body is not valid JSON"


# 401 / 403
class Unauthorized(ServiceError):
    status_code = 401
    code = "UNAUTHORIZED"
    default_message = "Missing or invalid API token"


class Forbidden(ServiceError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "Not allowed"


# 404 / 405
class RouteNotFound(ServiceError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "No such route"


class InstanceNotFound(ServiceError):
    status_code = 404
    code = "INSTANCE_NOT_FOUND"
    default_message = "Instance not found"


class TemplateNotFound(ServiceError):
    status_code = 404
    code = "TEMPLATE_NOT_FOUND"
    default_message = "Template not found"


class ProductNotFound(ServiceError):
    status_code = 404
    code = "PRODUCT_NOT_FOUND"
    default_message = "Product not found"


class DeliveryNotFound(ServiceError):
    status_code = 404
    code = "DELIVERY_NOT_FOUND"
    default_message = "Webhook delivery not found"


class MethodNotAllowed(ServiceError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed on this route"


# 409
class NameTaken(ServiceError):
    status_code = 409
    code = "NAME_TAKEN"
    default_message = "An instance with this name already exists"


class InstanceNotStartable(ServiceError):
    status_code = 409
    code = "INSTANCE_NOT_STARTABLE"
    default_message = "Instance cannot be started in its current status"


class InstanceNotStoppable(ServiceError):
    status_code = 409
    code = "INSTANCE_NOT_STOPPABLE"
    default_message = "Instance cannot be stopped in its current status"


class OperationInProgress(ServiceError):
    status_code = 409
    code = "OPERATION_IN_PROGRESS"
    default_message = "Another operation on this instance is in progress"


class InstanceAlreadyManaged(ServiceError):
    status_code = 409
    code = "INSTANCE_ALREADY_MANAGED"
    default_message = "This Novita instance is already managed"


class IdempotencyKeyReused(ServiceError):
    status_code = 409
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "Idempotency-Key was already used with a different request"


class DeliveryNotRetryable(ServiceError):
    status_code = 409
    code = "DELIVERY_NOT_RETRYABLE"
    default_message = "Only a failed webhook delivery can be re-queued"


# 413
class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body is too large"


# 422
class NoAvailableProduct(ServiceError):
    """No offer fits; ``details`` gives the reason for each region tried."""

    status_code = 422
    code = "NO_AVAILABLE_PRODUCT"
    default_message = "No available product matches the request"


class InsufficientResource(ServiceError):
    status_code = 422
    code = "INSUFFICIENT_RESOURCE"
    default_message = "Upstream has no capacity for this request"


class SpendLimitExceeded(ServiceError):
    status_code = 422
    code = "SPEND_LIMIT_EXCEEDED"
    default_message = "This would exceed SPEND_LIMIT_USD_PER_HOUR"


# 429
class RateLimited(ServiceError):
    status_code = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests"


# 5xx from upstream
class UpstreamFailed(ServiceError):
    """Upstream answered with an error we cannot turn into anything more specific."""

    status_code = 502
    code = "UPSTREAM_ERROR"
    default_message = "Novita API returned an error"


class UpstreamUnavailable(ServiceError):
    status_code = 503
    code = "UPSTREAM_UNAVAILABLE"
    default_message = "Novita API is unavailable; try again later"


class UpstreamTimedOut(ServiceError):
    status_code = 504
    code = "UPSTREAM_TIMEOUT"
    default_message = "Novita API did not answer in time"


class ServiceUnavailable(ServiceError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is not ready"
