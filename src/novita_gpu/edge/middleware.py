"""The request edge: one pure ASGI layer in front of every route.

For each HTTP request, after a single pass over the headers, it:

1. takes the client's ``X-Request-ID`` (printable, up to 128 characters) or makes one from a
   cheap process-unique counter, binds it for log lines and echoes it on every response;
2. resolves the :class:`~novita_gpu.auth.principal.Principal` into
   ``scope["state"]["principal"]`` (None when tokens are configured and none valid was
   presented); outside the open paths, such a request is 401 ``UNAUTHORIZED``;
3. applies the inbound rate limit (429 ``RATE_LIMITED`` with ``Retry-After``): commands
   (``POST``, ``DELETE``, ``PATCH``) are charged to their principal, and every failed
   authentication to the client address. Reads and heartbeats (``GET``, ``PUT .../last-used``)
   are not charged: they are cheap and idempotent, and pollers send many;
4. refuses request bodies over ``max_body_bytes`` (413 ``PAYLOAD_TOO_LARGE``), declared or
   streamed;
5. turns any unexpected exception into a logged 500 ``INTERNAL_ERROR`` envelope that carries
   the request id, and records request metrics.

``/health*`` and static files are never refused by 2 and 3 (their principal is still set).
Pure ASGI (not ``BaseHTTPMiddleware``) keeps the cost per request low and lets streamed
responses (SSE) pass through untouched.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from novita_gpu.auth.principal import (
    PRINCIPAL_KEY,
    Principal,
    TokenSource,
    is_open_path,
    presented_token,
)
from novita_gpu.auth.tokens import digest
from novita_gpu.core.errors import (
    InternalError,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    Unauthorized,
)
from novita_gpu.core.http_errors import error_response
from novita_gpu.core.request_context import request_id_var
from novita_gpu.edge.ratelimit import RateLimiter
from novita_gpu.observability.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_MAX_REQUEST_ID = 128
_CHARGED_METHODS = frozenset({"POST", "DELETE", "PATCH"})
_log = structlog.get_logger("edge")

# Request ids: a random per-process prefix and a counter (unique across replicas, no syscall).
_ID_PREFIX = secrets.token_hex(4)
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"


@dataclass(slots=True)
class _Headers:
    """The request headers the edge reads, from one pass over ``scope["headers"]``."""

    request_id: str | None = None
    authorization: str | None = None
    api_key: str | None = None
    content_length: int | None = None
    chunked: bool = False

    @classmethod
    def parse(cls, raw: list[tuple[bytes, bytes]]) -> _Headers:
        found = cls()
        for name, value in raw:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if 0 < len(text) <= _MAX_REQUEST_ID and text.isprintable():
                    found.request_id = text
            elif name == b"authorization":
                found.authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                found.api_key = value.decode("latin-1")
            elif name == b"content-length":
                found.content_length = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                found.chunked = True
        return found


def _route_label(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class Edge:
    """See the module docstring. ``tokens`` decides auth; ``limiter`` the rate limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenSource,
        limiter: RateLimiter,
        metrics: Metrics,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _Headers.parse(scope["headers"])
        request_id = headers.request_id or new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        response = _ResponseSend(send, request_id.encode("latin-1"))
        try:
            await self._handle(scope, receive, response, headers)
        except Exception:
            if response.complete:
                return  # the app's error handler answered and logged it
            if response.status:
                raise  # too late for an envelope: the server closes the connection
            _log.exception("unhandled error", path=scope["path"], request_id=request_id)
            await error_response(InternalError())(scope, receive, response)
        finally:
            elapsed = time.perf_counter() - started
            status = response.status or 500
            self.metrics.observe_request(scope["method"], _route_label(scope), status, elapsed)
            request_id_var.reset(token)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, headers: _Headers) -> None:
        refusal = await self._admit(scope, headers)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        if headers.chunked and headers.content_length is None:
            limited = _LimitedBody(scope, receive, send, self.max_body_bytes, self._too_large())
            await self.app(scope, limited.receive, limited.send)
            return
        await self.app(scope, receive, send)

    async def _admit(self, scope: Scope, headers: _Headers) -> ServiceError | None:
        """The error that refuses this request before it reaches a route, if any."""
        if headers.content_length is not None and headers.content_length > self.max_body_bytes:
            return self._too_large()
        principal = await self._principal(scope, headers)
        scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        if is_open_path(scope["path"]):
            return None
        if principal is None:
            wait = self.limiter.charge("addr:" + _client_address(scope))
            if wait is not None:
                return self._limited(wait)
            return Unauthorized(headers={"WWW-Authenticate": "Bearer"})
        if scope["method"] in _CHARGED_METHODS:
            wait = self.limiter.charge(principal.rate_key)
            if wait is not None:
                return self._limited(wait)
        return None

    async def _principal(self, scope: Scope, headers: _Headers) -> Principal | None:
        """The caller; None when tokens are configured and no valid one was presented."""
        known = await self.tokens.known()
        if not known:
            return Principal.anonymous(_client_address(scope))
        presented = presented_token(headers.authorization, headers.api_key)
        match = known.get(digest(presented)) if presented else None
        return match.principal() if match else None

    def _limited(self, wait: int) -> RateLimited:
        limiter = self.limiter
        return RateLimited(
            f"More than {limiter.max_requests} requests in {limiter.window:g} s",
            headers={"Retry-After": str(wait)},
        )

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"Request body exceeds {self.max_body_bytes} bytes",
            details={"maxBytes": self.max_body_bytes},
        )


class _ResponseSend:
    """Wraps ``send``: adds ``X-Request-ID`` to the response and remembers its status."""

    __slots__ = ("_header", "_send", "complete", "status")

    def __init__(self, send: Send, request_id: bytes) -> None:
        self._send = send
        self._header = (b"x-request-id", request_id)
        self.status = 0
        self.complete = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), self._header]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            self.complete = True
        await self._send(message)


class _LimitedBody:
    """Counts a streamed request body; past the limit the app sees the client go away, and
    whatever it answers is replaced by the 413 envelope."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, limit: int, error: ServiceError
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._limit = limit
        self._error = error
        self._received = 0
        self.exceeded = False

    async def receive(self) -> Message:
        if self.exceeded:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                self.exceeded = True
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if not self.exceeded:
            await self._send(message)
        elif message["type"] == "http.response.start":
            await error_response(self._error)(self._scope, self.receive, self._send)
