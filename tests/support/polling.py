"""Waiting in real time for something another task does (background loops, servers)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], timeout: float = 20.0, what: str = "condition"
) -> None:
    """Return once ``check()`` is true; fail the test after ``timeout`` real seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
