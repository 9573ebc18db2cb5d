"""Turn a failed exchange with Novita into the right :mod:`~novita_gpu.upstream.errors` class.

Error bodies are read defensively: Novita's ``{code, reason, message, metadata}``, a bare
``{message}``, Cloudflare's HTML or nothing at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from novita_gpu.upstream.errors import (
    UpstreamAuthError,
    UpstreamConnectionError,
    UpstreamDecodeError,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamInvalidState,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRequestError,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamValidationError,
)
from novita_gpu.upstream.retry import parse_retry_after

NOT_FOUND_REASONS = frozenset({"RESOURCE_NOT_FOUND", "JOB_NOT_FOUND", "TEMPLATE_NOT_FOUND"})
INSUFFICIENT_REASONS = frozenset({"INSUFFICIENT_RESOURCE", "MIGRATE_INSUFFICIENT_RESOURCE"})
VALIDATION_REASONS = frozenset({"VALIDATOR_PARAM", "REQUEST"})
INVALID_STATE_MESSAGE = "invalid state change"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_SNIPPET_LENGTH = 200
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.DOTALL | re.IGNORECASE)


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an error response said, as far as it could be read."""

    reason: str | None
    message: str | None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _snippet(text: str) -> str | None:
    """Readable text of a non-JSON body (HTML tags dropped), cut to a short length."""
    plain = " ".join(_TAGS.sub(" ", text).split())
    return plain[:_SNIPPET_LENGTH] or None


def read_error_body(response: httpx.Response) -> ErrorBody:
    """Reason and message from an error response, whatever its shape."""
    try:
        data = response.json()
    except ValueError:
        return ErrorBody(reason=None, message=_snippet(response.text))
    if not isinstance(data, dict):
        return ErrorBody(reason=None, message=_snippet(response.text))
    message = _text(data.get("message")) or _text(data.get("error"))
    return ErrorBody(reason=_text(data.get("reason")), message=message)


def _class_for_body(body: ErrorBody) -> type[UpstreamRequestError]:
    if body.reason in NOT_FOUND_REASONS:
        return UpstreamNotFound
    if body.message and INVALID_STATE_MESSAGE in body.message.lower():
        return UpstreamInvalidState
    if body.reason in INSUFFICIENT_REASONS:
        return UpstreamInsufficientResource
    if body.reason in VALIDATION_REASONS:
        return UpstreamValidationError
    return UpstreamRequestError


def _class_for(status: int, body: ErrorBody) -> type[UpstreamError]:
    if status >= 500:
        return UpstreamServerError
    if status == httpx.codes.REQUEST_TIMEOUT:
        return UpstreamTimeout
    if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        return UpstreamAuthError
    if status == httpx.codes.NOT_FOUND:
        return UpstreamNotFound
    return _class_for_body(body)


def _describe(endpoint: str, status: int, body: ErrorBody) -> str:
    details = ": ".join(part for part in (body.reason, body.message) if part)
    return f"{endpoint}: HTTP {status}" + (f" {details}" if details else "")


def error_from_response(endpoint: str, response: httpx.Response, *, now: datetime) -> UpstreamError:
    """Classify a non-2xx response. ``now`` resolves an HTTP-date ``Retry-After``."""
    body = read_error_body(response)
    status = response.status_code
    message = _describe(endpoint, status, body)
    if status == httpx.codes.TOO_MANY_REQUESTS:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        return UpstreamRateLimited(
            message,
            endpoint=endpoint,
            retry_after=retry_after,
            reason=body.reason,
            upstream_message=body.message,
        )
    return _class_for(status, body)(
        message,
        endpoint=endpoint,
        status_code=status,
        reason=body.reason,
        upstream_message=body.message,
        maybe_applied=status >= 500,
    )


def error_from_exception(endpoint: str, exc: httpx.RequestError) -> UpstreamError:
    """Classify an httpx failure: before sending (``maybe_applied=False``) or after."""
    maybe_applied = not isinstance(exc, _NOT_SENT)
    message = f"{endpoint}: {type(exc).__name__}: {exc}".rstrip(": ")
    error_class: type[UpstreamError] = UpstreamError
    if isinstance(exc, httpx.TimeoutException):
        error_class = UpstreamTimeout
    elif isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
        error_class = UpstreamConnectionError
    return error_class(message, endpoint=endpoint, maybe_applied=maybe_applied)


def _loads(response: httpx.Response) -> object:
    """The body as JSON: orjson (a listing page decodes several times faster), and the
    standard library for what orjson refuses but the standard library reads (``NaN``,
    integers beyond 64 bits, UTF-16 and UTF-32 bodies)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def decode_success(endpoint: str, response: httpx.Response) -> object:
    """The JSON of a 2xx response; an empty body (delete may send one) reads as ``{}``.

    Raises :class:`UpstreamDecodeError` (``maybe_applied=True``: upstream did answer 2xx) when
    the body is not JSON.
    """
    if not response.content.strip():
        return {}
    try:
        return _loads(response)
    except ValueError:
        raise UpstreamDecodeError(
            f"{endpoint}: HTTP {response.status_code} body is not JSON",
            endpoint=endpoint,
            status_code=response.status_code,
            maybe_applied=True,
        ) from None


def parse_payload(model: type[M], payload: object, endpoint: str) -> M:
    """Validate decoded JSON as ``model``.

    Raises :class:`UpstreamDecodeError` (``maybe_applied=True``) listing the failing fields;
    the offending values are left out because they may be secrets.
    """
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '<body>'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise UpstreamDecodeError(
            f"{endpoint}: unexpected response shape ({problems})",
            endpoint=endpoint,
            maybe_applied=True,
        ) from None
