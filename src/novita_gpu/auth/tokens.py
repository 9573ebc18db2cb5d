"""API tokens: from ``API_TOKENS`` and hashed in the ``api_tokens`` table.

Tokens are kept and looked up as SHA-256 digests, so the stored data does not reveal a token.
A database token is shown once, when it is created, and only its digest is stored.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.auth.grants import Scope, stored_scope
from novita_gpu.core.clock import utc_now
from novita_gpu.core.ids import new_token_id
from novita_gpu.db.models import ApiToken

TOKEN_PREFIX = "ngpu_"  # noqa: S105 - a prefix, not a secret


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_identities(self) -> list[tuple[str, str, str, Scope]]:
        """``(digest, id, name, scope)`` of every token that is not revoked."""
        query = select(ApiToken.token_hash, ApiToken.id, ApiToken.name, ApiToken.scope).where(
            ApiToken.revoked_at.is_(None)
        )
        rows = (await self.session.execute(query)).all()
        return [(row[0], row[1], row[2], stored_scope(row[3])) for row in rows]

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
