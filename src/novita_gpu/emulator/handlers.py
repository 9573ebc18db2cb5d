"""Small request/response helpers shared by the emulator's route modules."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from novita_gpu.emulator.errors import EmulatorError, error_response, validator_param
from novita_gpu.emulator.shapes import Shapes

T = TypeVar("T")
JsonHandler = Callable[[Request], Awaitable[Any]]


def json_endpoint(handler: JsonHandler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` so its return value is sent as JSON and an :class:`EmulatorError`
    (or a pydantic ``ValidationError`` from admin input) as the upstream error body."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request))
        except EmulatorError as error:
            return error_response(error)
        except ValidationError as error:
            return error_response(validator_param(_first_error(error)))

    return endpoint


async def json_body(request: Request) -> Any:
    """The parsed JSON body (``{}`` when empty). Raises ``VALIDATOR_PARAM`` when malformed."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise validator_param("request body is not valid JSON") from None


async def json_object(request: Request) -> dict[str, Any]:
    """Like :func:`json_body` but requires an object."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise validator_param("request body must be a JSON object")
    return body


def query_int(request: Request, name: str, *, default: int = 0, high: int | None = None) -> int:
    """A non-negative integer query parameter. Raises ``VALIDATOR_PARAM`` when malformed."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validator_param(f"{name} must be an integer") from None
    if value < 0 or (high is not None and value > high):
        raise validator_param(f"{name} must be between 0 and {high if high is not None else 'max'}")
    return value


def query_bool(request: Request, name: str) -> bool | None:
    """``true``/``false`` (or 1/0); ``None`` when absent. Raises ``VALIDATOR_PARAM``."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise validator_param(f"{name} must be true or false")


def page(request: Request, items: Sequence[T], shapes: Shapes) -> list[T]:
    """One page of ``items``; ``pageSize`` missing or 0 means 10. Page numbering (from 0, or
    from 1 with 0 read as 1) and a cap on the page size follow ``shapes``."""
    size = query_int(request, "pageSize") or 10
    start, stop = shapes.page_bounds(query_int(request, "pageNum"), size)
    return list(items[start:stop])


def _first_error(error: ValidationError) -> str:
    detail = error.errors()[0]
    where = ".".join(str(part) for part in detail["loc"])
    return f"{where}: {detail['msg']}" if where else str(detail["msg"])
