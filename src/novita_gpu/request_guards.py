"""App-wide request checks that run as a FastAPI dependency, before any handler.

:func:`no_nul_bytes`: PostgreSQL cannot store or compare text containing a NUL character,
so one in a path id, a query filter, ``Last-Event-ID`` or a JSON string is refused with a
400 naming where it was, on every database alike (SQLite would accept it and find nothing).
"""

from __future__ import annotations

from starlette.requests import Request

from novita_gpu.core.errors import ValidationFailed

_NUL = "\x00"
# How a NUL is spelled in JSON text (a raw NUL byte is invalid JSON anyway).
_JSON_NUL = (b"\\u0000", b"\x00")


async def no_nul_bytes(request: Request) -> None:
    """Raise a 400 when the request carries a NUL character where it could reach the database."""
    for name, value in request.path_params.items():
        if _NUL in str(value):
            raise _refused(name)
    for name, value in request.query_params.multi_items():
        if _NUL in name or _NUL in value:
            raise _refused(name.replace(_NUL, "\\0"))
    if _NUL in request.headers.get("last-event-id", ""):
        raise _refused("Last-Event-ID")
    if request.method in {"POST", "PUT", "PATCH"} and _json_has_nul(await request.body()):
        raise _refused("body")


def _json_has_nul(body: bytes) -> bool:
    return any(marker in body for marker in _JSON_NUL)


def _refused(field: str) -> ValidationFailed:
    return ValidationFailed.for_field(field, "must not contain a NUL character")
