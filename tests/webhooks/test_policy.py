"""The retry decision: which answers are retried, how long to wait, when to give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from novita_gpu.webhooks.policy import Decision, RetryPolicy, SendResult, decide
from novita_gpu.webhooks.states import AttemptOutcome, DeliveryStatus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=10, window=timedelta(days=1))


def http(code: int, retry_after: float | None = None) -> SendResult:
    outcome = AttemptOutcome.SUCCESS if 200 <= code <= 299 else AttemptOutcome.HTTP_ERROR
    return SendResult(outcome, 12, status_code=code, retry_after=retry_after)


def failure(outcome: AttemptOutcome) -> SendResult:
    return SendResult(outcome, 12, error=f"{outcome.value} happened")


def after(
    result: SendResult, attempt: int = 1, policy: RetryPolicy = POLICY, queued: datetime = NOW
) -> Decision:
    return decide(
        result,
        attempt_number=attempt,
        queued_at=queued,
        now=NOW,
        policy=policy,
        rng=random.Random(7),
    )


class TestWhatIsRetried:
    @pytest.mark.parametrize("code", [200, 201, 204, 299])
    def test_2xx_succeeds(self, code: int) -> None:
        assert after(http(code)).status is DeliveryStatus.SUCCEEDED

    @pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504, 599])
    def test_408_429_and_5xx_are_retried(self, code: int) -> None:
        decision = after(http(code))
        assert decision.status is DeliveryStatus.PENDING
        assert decision.error == f"HTTP {code}"

    @pytest.mark.parametrize("code", [301, 302, 400, 401, 403, 404, 410, 413, 422])
    def test_other_answers_are_final(self, code: int) -> None:
        decision = after(http(code))
        assert decision == Decision(DeliveryStatus.FAILED, error=f"HTTP {code}")

    @pytest.mark.parametrize(
        "outcome",
        [
            AttemptOutcome.NETWORK_ERROR,
            AttemptOutcome.TIMEOUT,
            AttemptOutcome.INTERRUPTED,
            AttemptOutcome.ERROR,
        ],
    )
    def test_network_timeouts_interruptions_and_our_bugs_are_retried(
        self, outcome: AttemptOutcome
    ) -> None:
        assert after(failure(outcome)).status is DeliveryStatus.PENDING

    def test_a_refused_target_is_final(self) -> None:
        decision = after(failure(AttemptOutcome.REFUSED))
        assert decision.status is DeliveryStatus.FAILED
        assert decision.error == "refused happened"


class TestWhen:
    @pytest.mark.parametrize(("attempt", "base"), [(1, 5), (2, 20), (3, 80), (4, 320), (9, 21600)])
    def test_backoff_grows_exponentially_with_jitter(self, attempt: int, base: float) -> None:
        decision = after(http(503), attempt)
        assert decision.next_attempt_at is not None
        waited = (decision.next_attempt_at - NOW).total_seconds()
        assert base * 0.75 <= waited <= base * 1.25

    def test_jitter_spreads_retries(self) -> None:
        rng = random.Random(1)
        delays = {round(POLICY.backoff(3, rng), 3) for _ in range(50)}
        assert len(delays) > 40
        assert min(delays) >= 60
        assert max(delays) <= 100

    def test_retry_after_is_honoured(self) -> None:
        decision = after(http(429, retry_after=120))
        assert decision.next_attempt_at == NOW + timedelta(seconds=120)

    def test_retry_after_is_capped(self) -> None:
        decision = after(http(503, retry_after=10**9))
        assert decision.next_attempt_at == NOW + timedelta(seconds=POLICY.cap_seconds)

    def test_an_interrupted_attempt_is_due_again_at_once(self) -> None:
        assert after(failure(AttemptOutcome.INTERRUPTED)).next_attempt_at == NOW


class TestGivingUp:
    def test_the_last_allowed_attempt_is_final(self) -> None:
        decision = after(http(503), attempt=10)
        assert decision.status is DeliveryStatus.FAILED
        assert decision.error == "HTTP 503; gave up after 10 attempts"

    def test_a_retry_past_the_window_is_not_scheduled(self) -> None:
        queued = NOW - timedelta(hours=23, minutes=59, seconds=50)
        decision = after(http(503), attempt=2, queued=queued)
        assert decision.status is DeliveryStatus.FAILED
        assert decision.error == "HTTP 503; retry window exhausted"

    def test_a_retry_inside_the_window_is_scheduled(self) -> None:
        queued = NOW - timedelta(hours=23)
        assert after(http(503), attempt=2, queued=queued).status is DeliveryStatus.PENDING

    def test_the_default_schedule_spans_most_of_a_day(self) -> None:
        rng = random.Random(3)
        policy = RetryPolicy(max_attempts=10, window=timedelta(days=1), jitter=0)
        total = sum(policy.backoff(attempt, rng) for attempt in range(1, 10))
        assert 15 * 3600 < total < 24 * 3600
