"""API tokens: from ``API_TOKENS`` and hashed in the ``api_tokens`` table.

Tokens are compared as SHA-256 digests with :func:`hmac.compare_digest`, so neither the
comparison time nor the stored data reveals a token. A database token is shown once, when it
is created, and only its digest is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.auth.scopes import Scope
from novita_gpu.core.clock import utc_now
from novita_gpu.core.ids import new_token_id
from novita_gpu.db.models import ApiToken

TOKEN_PREFIX = "ngpu_"  # noqa: S105 - a prefix, not a secret


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scope_of(candidate: str, known: Iterable[tuple[str, Scope]]) -> Scope | None:
    """The scope of the token whose digest is ``candidate``, or None (every digest is
    compared, so the time taken does not depend on which one matched)."""
    found: Scope | None = None
    for token_digest, scope in known:
        if hmac.compare_digest(candidate, token_digest):
            found = scope
    return found


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_digests(self) -> list[tuple[str, Scope]]:
        """(digest, scope) of every token not revoked."""
        query = select(ApiToken.token_hash, ApiToken.scope).where(ApiToken.revoked_at.is_(None))
        rows = (await self.session.execute(query)).all()
        return [(token_hash, _scope(scope)) for token_hash, scope in rows]

    async def create(self, name: str, scope: Scope = Scope.ADMIN) -> tuple[ApiToken, str]:
        """A new token named ``name``; returns the row and the token (shown only now)."""
        token = new_token()
        row = ApiToken(
            id=new_token_id(),
            name=name,
            token_hash=digest(token),
            scope=scope.value,
            created_at=utc_now(),
        )
        self.session.add(row)
        return row, token

    async def revoke(self, token_id: str) -> bool:
        result = await self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        return bool(getattr(result, "rowcount", 0))

    async def all(self) -> list[ApiToken]:
        return list(
            (await self.session.execute(select(ApiToken).order_by(ApiToken.created_at))).scalars()
        )


def _scope(stored: str) -> Scope:
    # An unknown value (written by a newer version) grants the least.
    return Scope(stored) if stored in {scope.value for scope in Scope} else Scope.READ
