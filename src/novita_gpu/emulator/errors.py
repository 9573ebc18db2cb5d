"""Upstream-style errors: ``{code, reason, message, metadata}`` with ``code`` == HTTP status.

Every business error the emulator raises is an :class:`EmulatorError`; the routes render it
with :func:`error_response`. Most are HTTP 400, as on the real gateway.
"""

from __future__ import annotations

from starlette.responses import JSONResponse


class EmulatorError(Exception):
    """An error answer in the upstream's shape."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        metadata: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.metadata = metadata or {}
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        """The JSON body the gateway sends."""
        return {
            "code": self.status,
            "reason": self.reason,
            "message": self.message,
            "metadata": self.metadata,
        }


def error_response(error: EmulatorError) -> JSONResponse:
    """Render ``error`` as the upstream would."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def validator_param(message: str) -> EmulatorError:
    """400 ``VALIDATOR_PARAM``: a request field is missing, mistyped or out of range."""
    return EmulatorError(400, "VALIDATOR_PARAM", message)


def invalid_state_change(instance_id: str, status: str) -> EmulatorError:
    """400 with the message real clients match on (``invalid state change``)."""
    return EmulatorError(400, "CONFLICT", "invalid state change", {"0": instance_id, "1": status})


def insufficient_resource(message: str = "insufficient resource") -> EmulatorError:
    """400 ``INSUFFICIENT_RESOURCE``: no free capacity for a create or start."""
    return EmulatorError(400, "INSUFFICIENT_RESOURCE", message)


def unauthorized() -> EmulatorError:
    """401 ``UNAUTHORIZED``: missing or unknown Bearer key."""
    return EmulatorError(401, "UNAUTHORIZED", "invalid or missing api key")


def rate_limited(retry_after: int) -> EmulatorError:
    """429 ``RATE_LIMIT_EXCEEDED`` with a ``Retry-After`` header."""
    return EmulatorError(
        429,
        "RATE_LIMIT_EXCEEDED",
        "too many requests",
        headers={"Retry-After": str(retry_after)},
    )


def not_found(status: int, reason: str, message: str) -> EmulatorError:
    """Not-found (``RESOURCE_NOT_FOUND``, ``TEMPLATE_NOT_FOUND``...) with the configured status.

    The documented status is 400; clients in the wild also code for 404, so it is a setting.
    """
    return EmulatorError(status, reason, message)
