"""An event loop on a private thread, so the sync API can drive async code (SSH, cleanup).

The calling thread keeps receiving signals: a ``KeyboardInterrupt`` or ``SystemExit`` raised
there while it waits cancels the async work, waits until that work has finished unwinding (its
``finally`` blocks, e.g. deleting an instance), and then propagates.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")
_WAKE_SECONDS = 0.2  # how often a waiting thread looks up (signals also wake it)


class Portal:
    """One event loop in one daemon thread; :meth:`close` stops both."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="novita-gpu-portal", daemon=True
        )
        self._thread.start()

    def call(self, work: Callable[[], Awaitable[T]], *, shielded: bool = False) -> T:
        """Run ``work()`` on the loop and return its result (or raise its error).

        An interrupt while waiting cancels ``work`` (unless ``shielded``: then it runs to the
        end) and is re-raised once ``work`` has finished; further interrupts meanwhile are
        ignored, so cleanup cannot be cut short.
        """
        done = threading.Event()
        outcome: list[tuple[bool, Any]] = []
        tasks: list[asyncio.Task[None]] = []

        async def runner() -> None:
            try:
                outcome.append((True, await work()))
            except BaseException as exc:  # handed to the calling thread
                outcome.append((False, exc))

        def start() -> None:
            task = self._loop.create_task(runner())
            task.add_done_callback(lambda _: done.set())  # also when cancelled before it ran
            tasks.append(task)

        def cancel() -> None:
            self._loop.call_soon_threadsafe(lambda: tasks[0].cancel())

        self._loop.call_soon_threadsafe(start)
        interrupt = _wait(done, on_first_interrupt=None if shielded else cancel)
        if interrupt is not None:
            raise interrupt
        ok, value = outcome[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def close(self) -> None:
        """Stop the loop and join its thread (idempotent)."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _wait(
    done: threading.Event, on_first_interrupt: Callable[[], object] | None
) -> BaseException | None:
    """Wait for ``done``; the first ``KeyboardInterrupt``/``SystemExit`` meanwhile, if any."""
    interrupt: BaseException | None = None
    while not done.is_set():
        try:
            done.wait(_WAKE_SECONDS)
        except (KeyboardInterrupt, SystemExit) as exc:
            if interrupt is None:
                interrupt = exc
                if on_first_interrupt is not None:
                    on_first_interrupt()
    return interrupt
