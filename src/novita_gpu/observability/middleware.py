"""Pure ASGI middleware: request ids, request metrics and the request body limit.

Pure ASGI (not ``BaseHTTPMiddleware``) keeps the per-request cost low and lets streaming
responses (SSE) pass through untouched.
"""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from novita_gpu.core.errors import PayloadTooLarge
from novita_gpu.core.http_errors import error_response
from novita_gpu.core.request_context import request_id_var
from novita_gpu.observability.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_MAX_REQUEST_ID = 128


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if 0 < len(text) <= _MAX_REQUEST_ID and text.isprintable():
                return text
    return None


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Takes or makes ``X-Request-ID``, echoes it, binds it to logs, records request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(scope["method"], _route_label(scope), status, elapsed)
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 ``PAYLOAD_TOO_LARGE``.

    A declared ``Content-Length`` over the limit is refused before reading. A streamed body is
    counted as it is read; past the limit the app sees the client go away, and whatever it
    answers is replaced by the 413 envelope.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await error_response(self._error())(scope, receive, send)
            return
        received = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start":
                await error_response(self._error())(scope, receive, send)

        await self.app(scope, limited_receive, guarded_send)

    def _error(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"Request body exceeds {self.max_bytes} bytes", details={"maxBytes": self.max_bytes}
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
