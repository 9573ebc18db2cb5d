"""Token scopes and who is calling: the principal the auth layer attaches to each request.

Two scopes, ``admin`` including ``read``:

- ``read``: every ``GET`` (instances without secrets, events, deliveries, metrics, the
  detailed ``/health``).
- ``admin``: everything else: creating, adopting, starting, stopping, deleting, heartbeats,
  stop-all, re-queuing deliveries, and secrets (``includeSecrets=true`` shows the SSH
  password).

``API_TOKENS`` entries are ``token`` (admin, as before scopes existed) or ``read:token`` /
``admin:token``. Database tokens carry their scope in the ``scope`` column.

The auth layer (:mod:`novita_gpu.auth.middleware`) identifies the caller and stores a
:class:`Principal` in the ASGI scope with :func:`attach`. The rules here are FastAPI
dependencies that read it back: a request without one has no rights (refused), so a route
can never be reached with more rights than the auth layer granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query
from starlette.requests import Request
from starlette.types import Scope as AsgiScope

from novita_gpu.core.errors import Forbidden, Unauthorized

_KEY = "novita_gpu.principal"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Scope(StrEnum):
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``scope`` None means anonymous (only open paths let one through)."""

    subject: str
    scope: Scope | None

    def allows(self, needed: Scope) -> bool:
        return self.scope is Scope.ADMIN or self.scope is needed


ANONYMOUS = Principal("anonymous", None)
"""No valid token, on a path the auth layer keeps open (``/health``, the dashboard page)."""
UNIDENTIFIED = Principal("unidentified", None)
"""No principal attached at all: treated as having no rights."""
# A server without any token is open to whoever can reach it (loopback only, or explicitly
# ALLOW_UNAUTHENTICATED): every caller has every right.
LOCAL = Principal("local", Scope.ADMIN)


def parse_env_token(entry: str) -> tuple[str, Scope]:
    """An ``API_TOKENS`` entry as (token, scope): ``read:tok``, ``admin:tok`` or ``tok``."""
    prefix, sep, rest = entry.partition(":")
    if sep and rest and prefix in {Scope.READ.value, Scope.ADMIN.value}:
        return rest, Scope(prefix)
    return entry, Scope.ADMIN


def attach(scope: AsgiScope, principal: Principal) -> None:
    scope[_KEY] = principal


def principal_of(scope: AsgiScope) -> Principal:
    found = scope.get(_KEY)
    return found if isinstance(found, Principal) else UNIDENTIFIED


async def current_principal(request: Request) -> Principal:
    return principal_of(request.scope)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def _require(principal: Principal, needed: Scope) -> None:
    if principal.scope is None:
        raise Unauthorized(headers={"WWW-Authenticate": "Bearer"})
    if not principal.allows(needed):
        raise Forbidden(
            f"This needs a token with the {needed.value!r} scope",
            details={"scope": principal.scope.value, "required": needed.value},
        )


async def method_scope(request: Request) -> None:
    """App-wide rule: reading needs ``read``, anything else ``admin``.

    Paths the auth layer keeps open (it attaches :data:`ANONYMOUS` there) are exempt: their
    handlers decide what an anonymous caller sees.
    """
    principal = principal_of(request.scope)
    if principal is ANONYMOUS:
        return
    needed = Scope.READ if request.method in _SAFE_METHODS else Scope.ADMIN
    _require(principal, needed)


async def secrets_access(
    principal: CurrentPrincipal,
    include_secrets: Annotated[bool, Query(alias="includeSecrets")] = False,
) -> bool:
    """The ``includeSecrets`` flag, which needs ``admin`` when true."""
    if include_secrets:
        _require(principal, Scope.ADMIN)
    return include_secrets


SecretsAccess = Annotated[bool, Depends(secrets_access)]


def sees_details(principal: Principal) -> bool:
    """Detailed ``/health``: for any token holder (or anyone on an open server)."""
    return principal.scope is not None
