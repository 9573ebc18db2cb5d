"""Client configuration: where the server is, how to authenticate, and how to retry."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_BASE_URL = "http://127.0.0.1:3000"
DEFAULT_TIMEOUT = 30.0
URL_ENV = "NOVITA_GPU_URL"
TOKEN_ENV = "NOVITA_GPU_TOKEN"  # noqa: S105 - the variable name, not a secret


def resolve_base_url(base_url: str | None) -> str:
    """``base_url``, else ``NOVITA_GPU_URL``, else the local default; no trailing slash."""
    return (base_url or os.environ.get(URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def resolve_token(token: str | None) -> str | None:
    """``token``, else ``NOVITA_GPU_TOKEN``, else no token (an unauthenticated server)."""
    return token or os.environ.get(TOKEN_ENV) or None


@dataclass(frozen=True)
class Retries:
    """When and how long to wait before repeating a request.

    Only requests that are safe to repeat are retried: reads, deletes, start/stop, and creates
    (which always carry an ``Idempotency-Key``). They are retried on network errors and on the
    ``statuses`` below, at most ``max_attempts`` times in all. The wait is the server's
    ``Retry-After`` when it sends one, else exponential backoff (``backoff * 2**n`` capped at
    ``max_backoff``) with up to ``jitter`` of it added at random. A ``Retry-After`` longer than
    ``max_retry_after`` is not waited for: the error is raised at once.
    """

    max_attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.1
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))

    @classmethod
    def disabled(cls) -> Retries:
        return cls(max_attempts=1)

    def backoff_for(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base + random.uniform(0, base * self.jitter)

    def delay_for(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is None:
            return self.backoff_for(attempt)
        return retry_after if retry_after <= self.max_retry_after else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
