"""Group commit: concurrent submissions are handled in batches by the first submitter, each
submitter gets its own result or the batch's error, and a key keeps two items apart."""

from __future__ import annotations

import asyncio

import pytest

from novita_gpu.core.batching import Batcher


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    async def handle(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        await asyncio.sleep(0)
        if self.fail_on in items:
            raise ValueError(f"cannot handle {self.fail_on}")
        return [item.upper() for item in items]


async def test_concurrent_items_are_handled_in_batches() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.handle, size=4)
    results = await asyncio.gather(*(batcher.submit(f"item{n}") for n in range(10)))
    assert results == [f"ITEM{n}" for n in range(10)]
    assert [len(batch) for batch in recorder.batches] == [4, 4, 2]


async def test_items_with_one_key_go_in_separate_batches_in_order() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.handle, size=10, key=lambda item: item[0])
    await asyncio.gather(batcher.submit("a1"), batcher.submit("a2"), batcher.submit("b1"))
    assert recorder.batches == [["a1", "b1"], ["a2"]]


async def test_an_error_reaches_every_item_of_the_batch_and_the_batcher_goes_on() -> None:
    recorder = Recorder(fail_on="bad")
    batcher = Batcher(recorder.handle, size=10)
    results = await asyncio.gather(
        batcher.submit("good"), batcher.submit("bad"), return_exceptions=True
    )
    assert all(isinstance(result, ValueError) for result in results)
    assert await batcher.submit("later") == "LATER"


async def test_cancelling_the_writer_cancels_what_it_carried() -> None:
    started = asyncio.Event()

    async def slow(items: list[str]) -> list[str]:
        started.set()
        await asyncio.sleep(60)
        return items

    batcher = Batcher(slow, size=10)
    writer = asyncio.create_task(batcher.submit("first"))
    await started.wait()
    follower = asyncio.create_task(batcher.submit("second"))
    await asyncio.sleep(0)
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await follower
    assert writer.cancelled()


async def test_a_writer_cancelled_before_it_wrote_leaves_nobody_waiting() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.handle, size=10)
    writer = asyncio.create_task(batcher.submit("first"))
    follower = asyncio.create_task(batcher.submit("second"))
    await asyncio.sleep(0)  # the writer yields once before writing; the follower joins then
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(follower, 5)
    assert recorder.batches == []
    assert await batcher.submit("later") == "LATER"
