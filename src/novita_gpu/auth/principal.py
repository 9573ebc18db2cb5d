"""Who is calling: the principal the request edge attaches to every request.

The edge (:mod:`novita_gpu.edge`) resolves it once per request from the ``Authorization:
Bearer`` or ``X-API-Key`` header and stores it as ``scope["state"]["principal"]`` (so
``request.state.principal`` in a handler or dependency), on every path. It is None only on an
open path (``/health*``, static files) called without a valid token while tokens are
configured; elsewhere such a request never reaches a handler. Authorisation checks build on
it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from novita_gpu.auth.grants import Scope, parse_env_token
from novita_gpu.auth.tokens import digest

OPEN_PREFIXES = ("/health", "/static/", "/favicon.ico")
PRINCIPAL_KEY = "principal"
_DB_TOKENS_TTL = 5.0


def is_open_path(path: str) -> bool:
    """Paths served without a token (liveness, the dashboard's static files)."""
    # "/" is the dashboard page: a static file that asks for a token itself.
    return path == "/" or path.startswith(OPEN_PREFIXES)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request.

    ``token_id`` names the token that authenticated it (``env:<n>`` for the n-th entry of
    ``API_TOKENS``, the database id for a database token), or is None for an anonymous caller
    of an open server. ``rate_key`` is what the inbound rate limit counts against. ``scope`` is
    the token's; a server without tokens is open to whoever can reach it (loopback only, or
    explicitly allowed), so its anonymous callers have every right.
    """

    kind: Literal["token", "anonymous"]
    token_id: str | None
    name: str | None
    rate_key: str
    scope: Scope = Scope.ADMIN

    @staticmethod
    def anonymous(address: str) -> Principal:
        return _anonymous(address)


@lru_cache(maxsize=4096)
def _anonymous(address: str) -> Principal:
    return Principal("anonymous", None, None, "addr:" + address)


@dataclass(frozen=True, slots=True)
class KnownToken:
    """A valid token as the edge sees it: its SHA-256 digest and its identity."""

    digest: str
    token_id: str
    name: str
    scope: Scope = Scope.ADMIN

    def principal(self) -> Principal:
        return Principal("token", self.token_id, self.name, "token:" + self.token_id, self.scope)


def presented_token(authorization: str | None, api_key: str | None) -> str | None:
    """The token a request presents, from ``Authorization: Bearer`` or ``X-API-Key``."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = (api_key or "").strip()
    return key or None


class TokenSource:
    """Every valid token: the environment's, plus the database's (re-read every few seconds).

    Lookup is by SHA-256 digest in a dict: the digest of a guessed token reveals nothing about
    a valid one, so a hash lookup leaks no more than a constant-time comparison would.
    """

    def __init__(
        self,
        env_tokens: Iterable[str],
        load_db: Callable[[], Awaitable[list[KnownToken]]],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._env = {
            digest(token): KnownToken(digest(token), f"env:{n}", f"API_TOKENS[{n}]", scope)
            for n, (token, scope) in enumerate(map(parse_env_token, env_tokens))
        }
        self._load_db = load_db
        self._monotonic = monotonic
        self._known = dict(self._env)
        self._loaded_at = float("-inf")

    async def known(self) -> dict[str, KnownToken]:
        """Valid tokens by digest (empty when the server is open)."""
        now = self._monotonic()
        if now - self._loaded_at > _DB_TOKENS_TTL:
            self._loaded_at = now
            loaded = await self._load_db()
            self._known = {**self._env, **{token.digest: token for token in loaded}}
        return self._known
