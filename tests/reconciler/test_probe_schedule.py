"""Delays between readiness rounds: a fresh instance is retried sooner (0.25 s, 0.5 s, ...)
until the delay reaches ``retryDelayMs``; then ``retryAttempts`` rounds at that delay; then
doubling, capped. Each delay is jittered by +-25 %."""

from __future__ import annotations

import pytest

from novita_gpu.reconciler.jobs.readiness import ProbeConfig


def config(retry_delay_s: float, retry_attempts: int = 3) -> ProbeConfig:
    return ProbeConfig(
        enabled=True,
        target_port=None,
        timeout_s=10.0,
        retry_attempts=retry_attempts,
        retry_delay_s=retry_delay_s,
        max_wait_s=300.0,
    )


@pytest.mark.parametrize(
    ("retry_delay_s", "bases"),
    [
        (2.0, [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 4.0, 8.0]),
        (1.0, [0.25, 0.5, 1.0, 1.0, 1.0, 2.0]),
        (0.5, [0.25, 0.5, 0.5, 0.5, 1.0]),
        (0.2, [0.2, 0.2, 0.2, 0.4]),
        (20.0, [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0, 30.0]),
    ],
)
def test_delays_ramp_up_then_follow_the_policy(retry_delay_s: float, bases: list[float]) -> None:
    probe = config(retry_delay_s)
    for round_number, base in enumerate(bases, start=1):
        for _ in range(20):
            delay = probe.delay_after(round_number)
            assert base * 0.75 <= delay <= base * 1.25, (round_number, delay)
