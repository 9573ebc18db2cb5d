"""A circuit breaker for the upstream, timed on the injected clock.

- **closed**: calls pass; ``failure_threshold`` consecutive transient failures open it.
- **open**: calls fail fast (no network) for ``reset_seconds``.
- **half_open**: the reset time has passed; exactly one trial call is let through. Its success
  closes the breaker, its failure opens it again for another ``reset_seconds``.

The caller decides what counts: transient failures (timeouts, connection errors, 5xx, 429) are
failures; any answer from upstream, including a 4xx, is a success.

Each state change is logged once (opened, half-open trial, closed); calls refused while open
are not logged, so an outage costs a few log lines, not one per call.
"""

from __future__ import annotations

from enum import Enum, StrEnum

import structlog

from novita_gpu.core.clock import Clock

log = structlog.get_logger(__name__)


class BreakerState(StrEnum):
    """What the breaker does with the next call."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Permit(Enum):
    """Why a call was let through: a normal call, or the half-open trial."""

    REGULAR = "regular"
    TRIAL = "trial"


class CircuitBreaker:
    """Counts consecutive transient failures and stops calls while upstream looks down."""

    def __init__(self, *, failure_threshold: int, reset_seconds: float, clock: Clock) -> None:
        self._threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The state now (open turns half-open by itself once the reset time has passed)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._trial_in_flight or self.retry_after() == 0:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_after(self) -> float:
        """Seconds until a trial call is allowed (0 when closed or half-open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._reset_seconds - self._clock.monotonic())

    def acquire(self) -> Permit | None:
        """Admit a call, or return ``None`` when it must fail fast.

        Every admitted call must end with exactly one of :meth:`record_success`,
        :meth:`record_failure` or :meth:`release`, given the same permit.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return Permit.REGULAR
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            log.info("upstream.breaker_half_open")
            return Permit.TRIAL
        return None

    def record_success(self, permit: Permit) -> None:
        """Upstream answered. Closes a half-open breaker; ignored while open."""
        if permit is Permit.TRIAL or self._opened_at is None:
            if self._opened_at is not None:
                log.info("upstream.breaker_closed")
            self._failures, self._opened_at, self._trial_in_flight = 0, None, False

    def record_failure(self, permit: Permit) -> None:
        """A transient failure. Opens the breaker at the threshold or after a failed trial."""
        if permit is Permit.TRIAL:
            self._open()
        elif self._opened_at is None:
            self._failures += 1
            if self._failures >= self._threshold:
                self._open()

    def release(self, permit: Permit) -> None:
        """The call ended without a verdict (e.g. cancelled): free the trial slot."""
        if permit is Permit.TRIAL:
            self._trial_in_flight = False

    def _open(self) -> None:
        self._opened_at = self._clock.monotonic()
        self._trial_in_flight = False
        log.warning(
            "upstream.breaker_opened", failures=self._failures, reset_seconds=self._reset_seconds
        )
