"""Which calls are retried, after which failures, and how long to wait in between.

Each route declares an :class:`Idempotency`:

============  ==================================  ===============================================
kind          routes                              retried after
============  ==================================  ===============================================
SAFE          every GET                           any transient failure
CONVERGENT    start, stop, delete                 any transient failure
UNSAFE        restart                             only failures that prove upstream did not act
                                                  (connection refused, connect timeout, 429)
ONCE          create, migrate                     never: one attempt
============  ==================================  ===============================================

Start, stop and delete converge: repeating one after a lost answer cannot leave a different
end state or cost money. The repeat may be refused because the first already took effect
(start/stop: :class:`~novita_gpu.upstream.errors.UpstreamInvalidState`; delete:
:class:`~novita_gpu.upstream.errors.UpstreamNotFound`), so callers treat those answers as
"maybe done already; read the instance". A repeated restart would restart twice, so it is only
repeated when the first attempt certainly never arrived. Create and migrate make new paid
resources; a lost create becomes :class:`~novita_gpu.upstream.errors.CreateOutcomeUnknown`.

Waits use exponential backoff with full jitter, except that a 429's ``Retry-After`` is obeyed
as given (a wait longer than the policy allows is not attempted at all).
"""

from __future__ import annotations

import email.utils
import math
import random
from datetime import UTC, datetime
from enum import Enum

from novita_gpu.upstream.errors import UpstreamError, UpstreamRateLimited, UpstreamTransientError
from novita_gpu.upstream.policy import UpstreamPolicy


class Idempotency(Enum):
    """How safely a route can be repeated (see the module docstring)."""

    SAFE = "safe"
    CONVERGENT = "convergent"
    UNSAFE = "unsafe"
    ONCE = "once"


def is_retryable(error: UpstreamError, idempotency: Idempotency) -> bool:
    """True when ``error`` may be retried on a route of this kind."""
    if not isinstance(error, UpstreamTransientError):
        return False
    match idempotency:
        case Idempotency.SAFE | Idempotency.CONVERGENT:
            return True
        case Idempotency.UNSAFE:
            return not error.maybe_applied
        case Idempotency.ONCE:
            return False


def backoff_delay(attempt: int, policy: UpstreamPolicy, rng: random.Random) -> float:
    """Full-jitter backoff after failed attempt number ``attempt`` (1-based)."""
    ceiling = policy.backoff_base_seconds * 2 ** (attempt - 1)
    return rng.uniform(0.0, min(policy.backoff_max_seconds, ceiling))


def retry_delay(
    error: UpstreamError,
    *,
    attempt: int,
    idempotency: Idempotency,
    policy: UpstreamPolicy,
    rng: random.Random,
) -> float | None:
    """Seconds to wait before another attempt, or ``None`` to give up and raise ``error``."""
    if attempt >= policy.max_attempts or not is_retryable(error, idempotency):
        return None
    if isinstance(error, UpstreamRateLimited) and error.retry_after is not None:
        return error.retry_after if error.retry_after <= policy.retry_after_max_seconds else None
    return backoff_delay(attempt, policy, rng)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; else ``None``."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until_http_date(value, now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until_http_date(value: str, now: datetime) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
