"""Stopping helper tasks without losing the caller's own cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any


async def cancel_and_wait(tasks: Collection[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait until each has ended; their results and errors are dropped.

    Awaiting each cancelled task inside ``suppress(CancelledError)`` would also swallow a
    cancellation aimed at the caller while it waits, so a loop being shut down would carry
    on. Here that cancellation propagates (the tasks are still cancelled).
    """
    stopping = list(tasks)  # ``tasks`` may shrink as they end (done callbacks)
    for task in stopping:
        task.cancel()
    if stopping:
        await asyncio.wait(stopping)
    for task in stopping:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved
