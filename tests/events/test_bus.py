"""The in-process event bus: wake-ups, missed-notify protection, and closing."""

from __future__ import annotations

import asyncio

from novita_gpu.core.clock import ManualClock
from novita_gpu.events.bus import EventBus
from tests.support.polling import eventually


async def test_notify_wakes_a_waiter() -> None:
    bus = EventBus(ManualClock())
    waiter = asyncio.create_task(bus.wait(60))
    await asyncio.sleep(0)
    bus.notify()
    assert await waiter is True


async def test_a_wait_times_out_on_the_clock() -> None:
    clock = ManualClock()
    bus = EventBus(clock)
    waiter = asyncio.create_task(bus.wait(1))
    await eventually(lambda: clock.pending_sleepers > 0)
    clock.advance(1)
    assert await waiter is False


async def test_a_notify_between_reading_and_waiting_is_not_missed() -> None:
    bus = EventBus(ManualClock())
    seen = bus.generation
    bus.notify()  # lands after the reader queried, before it waits
    assert await asyncio.wait_for(bus.wait(60, since=seen), 1) is True


async def test_close_wakes_waiters_and_is_visible() -> None:
    bus = EventBus(ManualClock())
    waiter = asyncio.create_task(bus.wait(60))
    await asyncio.sleep(0)
    bus.close()
    assert await waiter is True
    assert bus.closed


def test_touched_names_the_instances_a_notify_was_about() -> None:
    bus = EventBus(ManualClock())
    seen = bus.generation
    assert not bus.touched("inst_a", since=seen)
    bus.notify(["inst_b"])
    assert not bus.touched("inst_a", since=seen)
    assert bus.touched("inst_b", since=seen)
    later = bus.generation
    bus.notify(["inst_a"])
    assert bus.touched("inst_a", since=later)
    assert not bus.touched("inst_b", since=later)


def test_a_notify_without_names_touches_every_instance() -> None:
    bus = EventBus(ManualClock())
    seen = bus.generation
    bus.notify()
    assert bus.touched("inst_a", since=seen)


def test_a_reader_further_behind_than_remembered_notifies_rereads() -> None:
    bus = EventBus(ManualClock())
    seen = bus.generation
    for _ in range(5000):
        bus.notify(["inst_b"])
    assert bus.touched("inst_a", since=seen)
