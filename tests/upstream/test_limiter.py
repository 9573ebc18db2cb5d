"""The token bucket waits on the injected clock."""

from __future__ import annotations

import asyncio

from novita_gpu.core.clock import ManualClock
from novita_gpu.upstream.limiter import TokenBucket


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_burst_then_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    done: list[float] = []

    async def take() -> None:
        await bucket.acquire()
        done.append(clock.monotonic())

    tasks = [asyncio.create_task(take()) for _ in range(7)]
    await settle()
    assert done == [0.0, 0.0, 0.0]
    for expected in (4, 5, 6, 7):
        clock.advance(0.5)
        await settle()
        assert len(done) == expected
    await asyncio.gather(*tasks)
    assert done == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


async def test_tokens_refill_up_to_burst_only() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock)
    clock.advance(60)
    await bucket.acquire()
    await bucket.acquire()
    third = asyncio.create_task(bucket.acquire())
    await settle()
    assert not third.done()
    clock.advance(0.1)
    await settle()
    assert third.done()
