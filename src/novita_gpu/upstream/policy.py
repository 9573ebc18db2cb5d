"""How hard the upstream client tries: timeouts, retries, concurrency, rate and breaker limits.

The service builds one :class:`UpstreamPolicy` from its settings (``REQUEST_TIMEOUT`` in
milliseconds becomes :attr:`UpstreamPolicy.timeout_seconds`, ``MAX_RETRY_ATTEMPTS`` becomes
:attr:`UpstreamPolicy.max_attempts`); tests build their own, usually with ``retry_sleep=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class UpstreamPolicy:
    """Limits for calls to Novita. Every number must be positive.

    - ``timeout_seconds``: per request (connect, read, write and pool phases each).
    - ``max_attempts``: attempts per call, the first included; only retryable calls use more
      than one (see :mod:`novita_gpu.upstream.retry`).
    - ``backoff_base_seconds`` / ``backoff_max_seconds``: exponential backoff with full jitter,
      ``uniform(0, min(max, base * 2 ** (attempt - 1)))``.
    - ``retry_after_max_seconds``: a 429 asking to wait longer than this is not retried; the
      caller gets :class:`~novita_gpu.upstream.errors.UpstreamRateLimited` with ``retry_after``.
    - ``max_concurrency``: requests in flight at once.
    - ``rate_per_second`` / ``burst``: client-side token bucket.
    - ``breaker_failure_threshold``: consecutive transient failures that open the breaker.
    - ``breaker_reset_seconds``: how long it stays open before one trial call is let through.
    - ``retry_sleep``: ``False`` skips backoff sleeps (tests); retries still happen.
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 3
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 10.0
    retry_after_max_seconds: float = 60.0
    max_concurrency: int = 16
    rate_per_second: float = 20.0
    burst: int = 20
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 30.0
    retry_sleep: bool = True

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, bool) and value <= 0:
                raise ValueError(f"UpstreamPolicy.{field.name} must be positive, got {value!r}")

    @classmethod
    def from_settings(
        cls,
        *,
        request_timeout_ms: int,
        max_retry_attempts: int,
        max_concurrency: int = 16,
        rate_per_second: float = 20.0,
    ) -> UpstreamPolicy:
        """Build a policy from the service's settings values (``REQUEST_TIMEOUT`` is in ms)."""
        return cls(
            timeout_seconds=request_timeout_ms / 1000,
            max_attempts=max_retry_attempts,
            max_concurrency=max_concurrency,
            rate_per_second=rate_per_second,
            burst=max(1, round(rate_per_second)),
        )
