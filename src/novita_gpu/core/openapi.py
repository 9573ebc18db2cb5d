"""The OpenAPI document as clients should generate code from it.

Routes declare their own success model and the errors they raise (``responses=
error_responses(InstanceNotFound, ...)``). :func:`install_openapi` then adds what holds for
every route, so no route can forget it:

- the error envelope under 400 (validation, the status actually sent instead of FastAPI's 422),
  401 and 429 (auth and rate limit, except on the open ``/health`` routes), 413 (body limit) and
  500, each with the codes it can carry;
- the bearer and ``X-API-Key`` security schemes;
- the tag order and descriptions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from novita_gpu.core.errors import (
    InternalError,
    InvalidJson,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    Unauthorized,
    UpstreamFailed,
    UpstreamTimedOut,
    UpstreamUnavailable,
    ValidationFailed,
)

OPEN_PREFIX = "/health"
# What any route that calls Novita may answer (see novita_gpu.upstream.api_errors; its 422
# INSUFFICIENT_RESOURCE is listed only where Novita answers it: creates and starts).
UPSTREAM_ERRORS: tuple[type[ServiceError], ...] = (
    UpstreamFailed,
    UpstreamUnavailable,
    UpstreamTimedOut,
)
TAGS: list[dict[str, str]] = [
    {"name": "instances", "description": "Create, follow, start, stop and delete instances."},
    {"name": "events", "description": "The live event stream (server-sent events)."},
    {"name": "webhooks", "description": "Webhook deliveries: what was sent where, and retries."},
    {"name": "catalog", "description": "Products, templates, regions and the catalog caches."},
    {"name": "health", "description": "Health, readiness and metrics."},
]
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
_SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API token"},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


class ErrorOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    code: str = Field(description="Stable machine-readable code, e.g. INSTANCE_NOT_FOUND")
    message: str = Field(description="Human-readable explanation")
    details: Any = Field(
        default=None, description="Context; for VALIDATION_ERROR [{field, message}]"
    )
    request_id: str | None = Field(default=None, description="Also in the X-Request-ID header")
    timestamp: str


class ErrorEnvelope(BaseModel):
    """Every error response: ``{"error": {code, message, details, requestId, timestamp}}``."""

    error: ErrorOut


def _codes(errors: Iterable[type[ServiceError]]) -> str:
    return ", ".join(sorted({error.code for error in errors}))


def error_responses(*errors: type[ServiceError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the envelope under each status of ``errors``, with codes."""
    by_status: dict[int, list[type[ServiceError]]] = defaultdict(list)
    for error in errors:
        by_status[error.status_code].append(error)
    return {status: _error_response(listed, _codes(listed)) for status, listed in by_status.items()}


def _error_response(errors: list[type[ServiceError]], codes: str) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorEnvelope, "description": codes}
    if any(error.status_code in {429, 503} for error in errors):
        response["headers"] = _RETRY_AFTER
    return response


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the finished document (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=TAGS,
            )
            finish(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(schema: dict[str, Any]) -> None:
    """Add the common errors and security to every operation of ``schema`` (in place)."""
    components = schema.setdefault("components", {})
    components["securitySchemes"] = _SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if "ErrorEnvelope" not in schemas:
        generated = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(generated.pop("$defs", {}))
        schemas["ErrorEnvelope"] = generated
    known = {tag["name"] for tag in TAGS}
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            _finish_operation(path, operation)
            for tag in operation.get("tags", []):
                if tag not in known:
                    schema.setdefault("tags", []).append({"name": tag})
                    known.add(tag)


def _finish_operation(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    _drop_framework_422(responses)
    common: list[type[ServiceError]] = [InternalError]
    if operation.get("parameters") or operation.get("requestBody"):
        common.append(ValidationFailed)
    if operation.get("requestBody"):
        common += [InvalidJson, PayloadTooLarge]
    if path.startswith(OPEN_PREFIX):
        operation["security"] = []
    else:
        common += [Unauthorized, RateLimited]
        operation["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
    for status, response in error_responses(*common).items():
        _merge_error(responses, str(status), response)


def _drop_framework_422(responses: dict[str, Any]) -> None:
    """FastAPI documents validation as 422 HTTPValidationError; we send 400 in the envelope."""
    schema = responses.get("422", {}).get("content", {}).get("application/json", {})
    if "HTTPValidationError" in str(schema.get("schema", "")):
        del responses["422"]


def _merge_error(responses: dict[str, Any], status: str, added: dict[str, Any]) -> None:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    existing = responses.get(status)
    if existing is None:
        entry: dict[str, Any] = {"description": added["description"], "content": content}
        if "headers" in added:
            entry["headers"] = added["headers"]
        responses[status] = entry
        return
    codes = {c.strip() for c in existing.get("description", "").split(",") if c.strip()}
    codes |= {c.strip() for c in added["description"].split(",")}
    existing["description"] = ", ".join(sorted(codes))
    existing.setdefault("content", content)
