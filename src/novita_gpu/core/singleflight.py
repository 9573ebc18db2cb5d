"""Collapse concurrent identical operations into one: callers with the same key while one runs
share its result (or its exception) instead of starting their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """In-process: one operation per key at a time; later callers join the running one.

    The operation runs in its own task, so a caller that goes away (a client disconnects)
    does not cancel it for the others, and what it started is still recorded.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[Any]] = {}

    async def run(self, key: Hashable, operation: Callable[[], Awaitable[T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(operation())
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        result: T = await asyncio.shield(task)
        return result

    def _forget(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._running.get(key) is task:
            del self._running[key]

    def __len__(self) -> int:
        return len(self._running)
