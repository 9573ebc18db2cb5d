"""Who may do what: token scopes enforced as FastAPI dependencies.

Two scopes, ``admin`` including ``read``:

- ``read``: every ``GET`` (instances without secrets, events, deliveries, metrics, the
  detailed ``/health``).
- ``admin``: everything else: creating, adopting, starting, stopping, deleting, heartbeats,
  stop-all, re-queuing deliveries, and secrets (``includeSecrets=true`` shows the SSH
  password).

``API_TOKENS`` entries are ``token`` (admin, as before scopes existed) or ``read:token`` /
``admin:token``. Database tokens carry their scope in the ``scope`` column.

The request edge (:mod:`novita_gpu.edge`) identifies the caller and stores its
:class:`~novita_gpu.auth.principal.Principal` as ``scope["state"]["principal"]``: None there
means no valid token on a path the edge keeps open (``/health``, the dashboard page). The rules
here read it back; a request with no principal recorded at all has no rights (refused), so a
route can never be reached with more rights than the edge granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from starlette.requests import Request
from starlette.types import Scope as AsgiScope

from novita_gpu.auth.grants import Scope
from novita_gpu.auth.principal import PRINCIPAL_KEY, Principal
from novita_gpu.core.errors import Forbidden, Unauthorized

__all__ = ["Scope", "method_scope", "secrets_access", "sees_details"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal of one request as the scope rules see it: ``principal`` None is an
    anonymous caller of an open path; ``recorded`` False means the edge set nothing."""

    principal: Principal | None
    recorded: bool

    @property
    def scope(self) -> Scope | None:
        return self.principal.scope if self.principal is not None else None

    def allows(self, needed: Scope) -> bool:
        return self.scope is Scope.ADMIN or self.scope is needed


def caller_of(scope: AsgiScope) -> Caller:
    found = scope.get("state", {}).get(PRINCIPAL_KEY, _UNSET)
    if found is None or isinstance(found, Principal):
        return Caller(found, recorded=True)
    return Caller(None, recorded=False)


async def current_caller(request: Request) -> Caller:
    return caller_of(request.scope)


CurrentPrincipal = Annotated[Caller, Depends(current_caller)]


def _require(principal: Caller, needed: Scope) -> None:
    if principal.scope is None:
        raise Unauthorized(headers={"WWW-Authenticate": "Bearer"})
    if not principal.allows(needed):
        raise Forbidden(
            f"This needs a token with the {needed.value!r} scope",
            details={"scope": principal.scope.value, "required": needed.value},
        )


async def method_scope(request: Request) -> None:
    """App-wide rule: reading needs ``read``, anything else ``admin``.

    Paths the edge keeps open (principal None there) are exempt: their handlers decide what
    an anonymous caller sees.
    """
    principal = caller_of(request.scope)
    if principal.recorded and principal.principal is None:
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


def sees_details(principal: Caller) -> bool:
    """Detailed ``/health``: for any token holder (or anyone on an open server)."""
    return principal.scope is not None
