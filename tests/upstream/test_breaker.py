"""The circuit breaker on its own, timed on a ManualClock."""

from __future__ import annotations

from novita_gpu.core.clock import ManualClock
from novita_gpu.upstream.breaker import BreakerState, CircuitBreaker, Permit


def breaker(clock: ManualClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=threshold, reset_seconds=30.0, clock=clock)


def state(b: CircuitBreaker) -> BreakerState:
    """Read the state through a call, so the type checker does not pin it between reads."""
    return b.state


def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        permit = b.acquire()
        assert permit is not None
        b.record_failure(permit)


def test_opens_after_consecutive_failures_only() -> None:
    clock = ManualClock()
    b = breaker(clock)
    fail(b, 2)
    b.record_success(Permit.REGULAR)
    fail(b, 2)
    assert state(b) is BreakerState.CLOSED
    fail(b, 1)
    assert state(b) is BreakerState.OPEN
    assert b.acquire() is None
    assert b.retry_after() == 30.0


def test_half_open_admits_one_trial_and_closes_on_success() -> None:
    clock = ManualClock()
    b = breaker(clock)
    fail(b, 3)
    clock.advance(29.5)
    assert state(b) is BreakerState.OPEN
    assert b.retry_after() == 0.5
    clock.advance(0.5)
    assert state(b) is BreakerState.HALF_OPEN
    assert b.acquire() is Permit.TRIAL
    assert b.acquire() is None
    b.record_success(Permit.TRIAL)
    assert state(b) is BreakerState.CLOSED
    assert b.acquire() is Permit.REGULAR


def test_failed_trial_reopens_for_a_full_period() -> None:
    clock = ManualClock()
    b = breaker(clock)
    fail(b, 3)
    clock.advance(30)
    b.record_failure(b.acquire() or Permit.REGULAR)
    assert state(b) is BreakerState.OPEN
    assert b.retry_after() == 30.0


def test_released_trial_frees_the_slot() -> None:
    clock = ManualClock()
    b = breaker(clock)
    fail(b, 3)
    clock.advance(30)
    assert b.acquire() is Permit.TRIAL
    b.release(Permit.TRIAL)
    assert state(b) is BreakerState.HALF_OPEN
    assert b.acquire() is Permit.TRIAL


def test_late_results_of_regular_calls_do_not_close_an_open_breaker() -> None:
    clock = ManualClock()
    b = breaker(clock)
    fail(b, 3)
    b.record_success(Permit.REGULAR)
    b.record_failure(Permit.REGULAR)
    assert state(b) is BreakerState.OPEN
    assert b.retry_after() == 30.0
