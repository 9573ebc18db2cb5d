"""Rendering of every error as the error envelope, and the app's exception handlers.

``{"error": {"code", "message", "details", "requestId", "timestamp"}}`` with the status of the
error class. Framework errors (validation, malformed JSON, unknown route, wrong method) are
translated into the matching :class:`ServiceError`; anything unexpected becomes a logged 500
``INTERNAL_ERROR`` with no stack trace sent to the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from novita_gpu.core.errors import (
    InternalError,
    InvalidJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    ServiceError,
    ValidationFailed,
)
from novita_gpu.core.request_context import current_request_id

_log = structlog.get_logger("errors")


def error_body(error: ServiceError) -> dict[str, Any]:
    """The JSON envelope for ``error``."""
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "requestId": current_request_id(),
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
    }


def error_response(error: ServiceError) -> JSONResponse:
    """A response carrying ``error``'s envelope, status and headers."""
    headers = dict(error.headers)
    request_id = current_request_id()
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(error_body(error), status_code=error.status_code, headers=headers)


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _field_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def translate_validation_error(exc: RequestValidationError) -> ServiceError:
    """Malformed JSON becomes ``INVALID_JSON``; anything else ``VALIDATION_ERROR`` with
    ``details`` listing ``{field, message}`` for each problem."""
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return InvalidJson()
    details = [
        {"field": _field_name(e.get("loc", ())), "message": _field_message(e)} for e in errors
    ]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return ValidationFailed(f"Request validation failed: {summary}", details=details)


def _translate_http_exception(exc: StarletteHTTPException) -> ServiceError:
    match exc.status_code:
        case 404:
            return RouteNotFound()
        case 405:
            return MethodNotAllowed()
        case 413:
            return PayloadTooLarge()
        case 400:
            return (
                InvalidJson(str(exc.detail))
                if "JSON" in str(exc.detail)
                else ValidationFailed(str(exc.detail))
            )
        case _:
            return InternalError(str(exc.detail))


async def _service_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(translate_validation_error(exc))


async def _http_exception(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = _translate_http_exception(exc)
    response = error_response(error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error", path=request.url.path, error_type=type(exc).__name__)
    return error_response(InternalError())


def install_error_handlers(app: FastAPI) -> None:
    """Route every error path of ``app`` through the envelope."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unexpected)
