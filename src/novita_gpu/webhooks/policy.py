"""The retry decision after one attempt: pure, so every rule is testable without a network.

- 2xx: ``succeeded``.
- Retryable: network errors and timeouts, 408, 429 and 5xx, an attempt interrupted by a
  shutdown, and an internal error of ours (so a fixed bug lets the retry through). The next
  attempt waits ``Retry-After`` when the receiver sent one, else an exponential backoff with
  jitter (5 s, 20 s, 80 s, ... capped at 6 h, each +-25 %).
- Anything else (other 4xx, 3xx: redirects are not followed, a refused or invalid target):
  ``failed`` at once.
- A retryable failure is final too when it was attempt ``WEBHOOK_MAX_ATTEMPTS``, or when the
  next attempt would fall after ``WEBHOOK_RETRY_WINDOW`` seconds from when the delivery was
  queued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from novita_gpu.core.config import Settings
from novita_gpu.webhooks.states import AttemptOutcome, DeliveryStatus

_RETRYABLE_STATUS = frozenset({408, 429})
_RETRYABLE_OUTCOMES = frozenset(
    {
        AttemptOutcome.NETWORK_ERROR,
        AttemptOutcome.TIMEOUT,
        AttemptOutcome.INTERRUPTED,
        AttemptOutcome.ERROR,
    }
)


@dataclass(frozen=True)
class SendResult:
    """What one attempt observed. ``retry_after`` is seconds, when the receiver asked for it."""

    outcome: AttemptOutcome
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    retry_after: float | None = None

    @property
    def summary(self) -> str:
        """One line for ``last_error``: the error, or the HTTP status."""
        if self.error:
            return self.error
        return f"HTTP {self.status_code}" if self.status_code is not None else self.outcome.value


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    window: timedelta
    base_seconds: float = 5.0
    factor: float = 4.0
    cap_seconds: float = 6 * 3600.0
    jitter: float = 0.25

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            window=timedelta(seconds=settings.webhook_retry_window),
        )

    def backoff(self, attempt_number: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based), jittered."""
        exponent = min(attempt_number - 1, 64)
        delay = min(self.cap_seconds, self.base_seconds * self.factor**exponent)
        return delay * (1 + self.jitter * (2 * rng.random() - 1))


@dataclass(frozen=True)
class Decision:
    """The delivery's state after an attempt; ``next_attempt_at`` only for ``pending``."""

    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    error: str | None = None


def is_success(result: SendResult) -> bool:
    return result.outcome is AttemptOutcome.SUCCESS


def is_retryable(result: SendResult) -> bool:
    if result.outcome in _RETRYABLE_OUTCOMES:
        return True
    code = result.status_code
    return result.outcome is AttemptOutcome.HTTP_ERROR and code is not None and _retryable(code)


def _retryable(code: int) -> bool:
    return code in _RETRYABLE_STATUS or 500 <= code <= 599


def decide(
    result: SendResult,
    *,
    attempt_number: int,
    queued_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    """The delivery's next state after attempt ``attempt_number`` ended with ``result``."""
    if is_success(result):
        return Decision(DeliveryStatus.SUCCEEDED)
    if not is_retryable(result):
        return Decision(DeliveryStatus.FAILED, error=result.summary)
    if attempt_number >= policy.max_attempts:
        return _give_up(result, f"gave up after {attempt_number} attempts")
    next_at = now + timedelta(seconds=_delay(result, attempt_number, policy, rng))
    if next_at > queued_at + policy.window:
        return _give_up(result, "retry window exhausted")
    return Decision(DeliveryStatus.PENDING, next_at, result.summary)


def _delay(
    result: SendResult, attempt_number: int, policy: RetryPolicy, rng: random.Random
) -> float:
    if result.outcome is AttemptOutcome.INTERRUPTED:
        return 0.0
    if result.retry_after is not None:
        return min(max(0.0, result.retry_after), policy.cap_seconds)
    return policy.backoff(attempt_number, rng)


def _give_up(result: SendResult, why: str) -> Decision:
    return Decision(DeliveryStatus.FAILED, error=f"{result.summary}; {why}")
