"""``Idempotency-Key`` for creates: the first response is stored and replayed.

A key is scoped to the route. The first request claims the key (``in_progress``) in the same
transaction that writes the instance row, so a crash mid-create leaves the claim pointing at
the instance; the retry then answers with that instance instead of creating another. The same
key with a different body is 409 ``IDEMPOTENCY_KEY_REUSED``. Keys live 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.core.errors import IdempotencyKeyReused, ValidationFailed
from novita_gpu.db.models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def request_fingerprint(body: dict[str, Any]) -> str:
    """A stable hash of a request body (key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.for_field(
            "Idempotency-Key", f"must be 1-{MAX_KEY_LENGTH} printable characters"
        )
    return key


@dataclass(frozen=True)
class Replay:
    """What a repeated key resolves to: a stored response, or the instance it claimed."""

    status_code: int | None
    body: dict[str, Any] | None
    instance_id: str | None


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, scope: str, key: str, fingerprint: str, now: datetime) -> Replay | None:
        """The earlier use of ``key`` if it is still alive; raises if the body differs."""
        record = await self.session.get(IdempotencyKey, (scope, key))
        if record is None or record.expires_at <= now:
            return None
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(details={"key": key})
        return Replay(record.response_status, record.response_body, record.instance_id)

    async def claim(
        self, scope: str, key: str, fingerprint: str, instance_id: str, now: datetime
    ) -> None:
        """Record that ``key`` now belongs to the create of ``instance_id``."""
        await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )
        self.session.add(
            IdempotencyKey(
                scope=scope,
                key=key,
                request_hash=fingerprint,
                state="in_progress",
                instance_id=instance_id,
                created_at=now,
                expires_at=now + KEY_LIFETIME,
            )
        )

    async def complete(self, scope: str, key: str, status_code: int, body: dict[str, Any]) -> None:
        record = await self.session.get(IdempotencyKey, (scope, key))
        if record is not None:
            record.state = "completed"
            record.response_status = status_code
            record.response_body = body

    async def release(self, scope: str, key: str) -> None:
        """Forget ``key`` (the request failed in a way a retry may fix)."""
        await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
