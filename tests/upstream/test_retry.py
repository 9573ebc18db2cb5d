"""Backoff, Retry-After parsing and the retry decision table."""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime, timedelta

import pytest

from novita_gpu.upstream import (
    Idempotency,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamInvalidState,
    UpstreamPolicy,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
)
from novita_gpu.upstream.retry import backoff_delay, is_retryable, parse_retry_after, retry_delay
from tests.upstream.conftest import UpperBound

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = UpstreamPolicy(backoff_base_seconds=0.5, backoff_max_seconds=4.0, max_attempts=10)
E = "GET /x"


class TestBackoff:
    def test_ceiling_doubles_up_to_the_max(self) -> None:
        delays = [backoff_delay(n, POLICY, UpperBound()) for n in range(1, 7)]
        assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]

    def test_full_jitter_stays_within_the_ceiling_and_varies(self) -> None:
        rng = random.Random(7)
        for attempt in range(1, 6):
            ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
            samples = [backoff_delay(attempt, POLICY, rng) for _ in range(200)]
            assert all(0.0 <= s <= ceiling for s in samples)
            assert max(samples) - min(samples) > ceiling / 2


class TestRetryAfter:
    @pytest.mark.parametrize(("raw", "seconds"), [("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0)])
    def test_delta_seconds(self, raw: str, seconds: float) -> None:
        assert parse_retry_after(raw, NOW) == seconds

    def test_http_date(self) -> None:
        raw = email.utils.format_datetime(NOW + timedelta(seconds=12), usegmt=True)
        assert parse_retry_after(raw, NOW) == 12.0

    def test_http_date_in_the_past_is_zero(self) -> None:
        raw = email.utils.format_datetime(NOW - timedelta(seconds=12), usegmt=True)
        assert parse_retry_after(raw, NOW) == 0.0

    @pytest.mark.parametrize("raw", [None, "", "soon", "inf", "nan"])
    def test_unreadable_is_none(self, raw: str | None) -> None:
        assert parse_retry_after(raw, NOW) is None


def _sent(cls: type[UpstreamError]) -> UpstreamError:
    return cls("x", endpoint=E, maybe_applied=True)


def _unsent(cls: type[UpstreamError]) -> UpstreamError:
    return cls("x", endpoint=E, maybe_applied=False)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        pytest.param(_sent(UpstreamServerError), {"SAFE", "CONVERGENT"}, id="5xx"),
        pytest.param(_sent(UpstreamTimeout), {"SAFE", "CONVERGENT"}, id="read-timeout"),
        pytest.param(_sent(UpstreamConnectionError), {"SAFE", "CONVERGENT"}, id="dropped"),
        pytest.param(
            _unsent(UpstreamConnectionError), {"SAFE", "CONVERGENT", "UNSAFE"}, id="refused"
        ),
        pytest.param(
            _unsent(UpstreamTimeout), {"SAFE", "CONVERGENT", "UNSAFE"}, id="connect-timeout"
        ),
        pytest.param(
            UpstreamRateLimited("x", endpoint=E), {"SAFE", "CONVERGENT", "UNSAFE"}, id="429"
        ),
        pytest.param(UpstreamInvalidState("x", endpoint=E), set(), id="4xx"),
        pytest.param(UpstreamError("x", endpoint=E), set(), id="other"),
    ],
)
def test_decision_table(error: UpstreamError, retried: set[str]) -> None:
    assert {kind.name for kind in Idempotency if is_retryable(error, kind)} == retried


class TestRetryDelay:
    def test_gives_up_after_max_attempts(self) -> None:
        policy = UpstreamPolicy(max_attempts=3)
        error = _sent(UpstreamServerError)

        def delay(attempt: int) -> float | None:
            return retry_delay(
                error,
                attempt=attempt,
                idempotency=Idempotency.SAFE,
                policy=policy,
                rng=UpperBound(),
            )

        assert delay(2) == 1.0
        assert delay(3) is None

    def test_retry_after_replaces_backoff(self) -> None:
        error = UpstreamRateLimited("x", endpoint=E, retry_after=9.0)
        delay = retry_delay(
            error, attempt=1, idempotency=Idempotency.SAFE, policy=POLICY, rng=UpperBound()
        )
        assert delay == 9.0

    def test_retry_after_beyond_the_max_is_not_waited_for(self) -> None:
        error = UpstreamRateLimited("x", endpoint=E, retry_after=61.0)
        policy = UpstreamPolicy(retry_after_max_seconds=60.0)
        delay = retry_delay(
            error, attempt=1, idempotency=Idempotency.SAFE, policy=policy, rng=UpperBound()
        )
        assert delay is None
