"""Group commit: items submitted by concurrent tasks, handled a batch at a time.

The first task to submit while nothing is being handled becomes the writer: it lets the tasks
that are ready in the same turn of the event loop submit too, then hands the items to
``handle`` in batches until none are waiting, and every submitter gets its own item's result.
Under a burst of small writes that is a few transactions instead of one per task, each taking
the database's write lock once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Batcher(Generic[Item, Result]):
    """Hands concurrently submitted items to ``handle`` in batches of at most ``size``.

    ``handle`` returns one result per item, in order. ``key`` keeps two items with the same
    key out of one batch (the second waits for the next). If ``handle`` raises, every item of
    that batch and every item still waiting fails with the same error; if the writing task is
    cancelled, they are cancelled. The batcher is usable again afterwards.
    """

    def __init__(
        self,
        handle: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        *,
        size: int,
        key: Callable[[Item], Hashable] = id,
    ) -> None:
        self._handle = handle
        self._size = size
        self._key = key
        self._queue: list[_Waiting[Item, Result]] = []
        self._writing = False

    async def submit(self, item: Item) -> Result:
        """Have ``item`` handled (in this task or by the one writing) and return its result."""
        waiting: _Waiting[Item, Result] = _Waiting(item)
        self._queue.append(waiting)
        if not self._writing:
            self._writing = True
            try:
                await asyncio.sleep(0)  # let the tasks that are ready in this turn join
                await self._write_all()
            except BaseException:
                self._fail(list(self._queue), None)  # nobody is left to write what waits
                raise
            finally:
                self._writing = False
        return await waiting.done

    async def _write_all(self) -> None:
        while self._queue:
            batch = self._take_batch()
            try:
                results = await self._handle([waiting.item for waiting in batch])
            except Exception as exc:  # each submitter gets it from its own future
                self._fail([*batch, *self._queue], exc)
                return
            except BaseException:
                self._fail([*batch, *self._queue], None)
                raise
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.done.done():  # its submitter may have been cancelled
                    waiting.done.set_result(result)

    def _take_batch(self) -> list[_Waiting[Item, Result]]:
        batch: list[_Waiting[Item, Result]] = []
        keys: set[Hashable] = set()
        for waiting in list(self._queue):
            if len(batch) == self._size:
                break
            key = self._key(waiting.item)
            if key not in keys:
                keys.add(key)
                batch.append(waiting)
                self._queue.remove(waiting)
        return batch

    def _fail(self, waiting: list[_Waiting[Item, Result]], exc: Exception | None) -> None:
        """Fail the given submitters with ``exc``, or cancel them (``None``: the writer was
        cancelled, and with it the items it carried)."""
        self._queue.clear()
        for each in waiting:
            if each.done.done():
                continue
            if exc is None:
                each.done.cancel()
            else:
                each.done.set_exception(exc)
