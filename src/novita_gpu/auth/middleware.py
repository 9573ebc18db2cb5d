"""Authentication and the inbound rate limit, as pure ASGI middleware.

Auth: when any token is configured (``API_TOKENS`` or a token in the database), every request
except ``/health*`` and the dashboard's static files must carry one, as ``Authorization:
Bearer <token>`` or ``X-API-Key``; otherwise 401 ``UNAUTHORIZED``. With no token configured the
service is open, which the settings only allow on a loopback address.

Rate limit: at most ``RATE_LIMIT_MAX_REQUESTS`` per ``RATE_LIMIT_WINDOW_MS`` per token (or per
client address without one), counted in this process; over it, 429 ``RATE_LIMITED`` with
``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from novita_gpu.auth.tokens import digest, matches_any
from novita_gpu.core.errors import RateLimited, Unauthorized
from novita_gpu.core.http_errors import error_response

OPEN_PREFIXES = ("/health", "/static/", "/favicon.ico")
_DB_TOKENS_TTL = 5.0


def is_open_path(path: str) -> bool:
    # "/" is the dashboard page: a static file that asks for a token itself.
    return path == "/" or path.startswith(OPEN_PREFIXES)


def presented_token(scope: Scope) -> str | None:
    headers = Headers(scope=scope)
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


_DIGEST_KEY = "novita_gpu.token_digest"


def presented_digest(scope: Scope) -> str | None:
    """SHA-256 of the presented token, computed once per request (both middlewares need it)."""
    if _DIGEST_KEY not in scope:
        token = presented_token(scope)
        scope[_DIGEST_KEY] = digest(token) if token else None
    found: str | None = scope[_DIGEST_KEY]
    return found


class TokenSource:
    """Digests of every valid token: the environment's, plus the database's (cached briefly)."""

    def __init__(self, env_tokens: list[str], load_db: Callable[[], Awaitable[list[str]]]) -> None:
        self._env = [digest(token) for token in env_tokens]
        self._load_db = load_db
        self._db: list[str] = []
        self._loaded_at = float("-inf")

    async def digests(self) -> list[str]:
        if time.monotonic() - self._loaded_at > _DB_TOKENS_TTL:
            self._db = await self._load_db()
            self._loaded_at = time.monotonic()
        return self._env + self._db


class AuthMiddleware:
    def __init__(self, app: ASGIApp, source: TokenSource) -> None:
        self.app = app
        self.source = source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        digests = await self.source.digests()
        presented = presented_digest(scope)
        if digests and (presented is None or not matches_any(presented, digests)):
            error = Unauthorized(headers={"WWW-Authenticate": "Bearer"})
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    """Fixed windows per caller; the window resets ``window_seconds`` after its first request."""

    def __init__(self, app: ASGIApp, max_requests: int, window_seconds: float) -> None:
        self.app = app
        self.max_requests = max_requests
        self.window = window_seconds
        self._windows: dict[str, tuple[float, int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        retry_after = self._count(self._caller(scope))
        if retry_after is not None:
            error = RateLimited(
                f"More than {self.max_requests} requests in {self.window:g} s",
                headers={"Retry-After": str(max(1, int(retry_after + 0.999)))},
            )
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _caller(self, scope: Scope) -> str:
        presented = presented_digest(scope)
        if presented:
            return "token:" + presented
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    def _count(self, caller: str) -> float | None:
        """Count one request; the seconds to wait if the caller is over the limit."""
        now = time.monotonic()
        started, count = self._windows.get(caller, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        if count >= self.max_requests:
            return started + self.window - now
        self._windows[caller] = (started, count + 1)
        if len(self._windows) > 100_000:
            self._forget_old(now)
        return None

    def _forget_old(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.window}
