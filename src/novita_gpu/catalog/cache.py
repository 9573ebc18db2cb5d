"""A small async TTL cache on an injected clock, with single-flight loading.

``await cache.get(key, load)`` returns the stored value while it is fresh; otherwise it calls
``load()`` once and stores the result for ``ttl_seconds`` of :meth:`Clock.monotonic` time.
Concurrent misses for the same key share that one call (single flight): the first caller starts
the load as a task and every caller awaits it, so a caller that is cancelled does not cancel
the others. A failed load stores nothing and raises to everyone who waited on it.

``ttl_seconds=0`` disables storing (every ``get`` loads; concurrent ones still share the call).
The cache lives in one process; it holds only data that can be fetched again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from novita_gpu.core.clock import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 1024


@dataclass(frozen=True)
class CacheStats:
    """Counters of one cache. ``coalesced`` counts gets that joined another caller's load."""

    name: str
    entries: int
    hits: int
    misses: int
    coalesced: int


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    expires_at: float


class TtlCache(Generic[K, V]):
    """Values per key for ``ttl_seconds``; at most ``max_entries`` (oldest evicted first)."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        ttl_seconds: float,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must not be negative")
        self.name = name
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[K, _Entry[V]] = {}
        self._loading: dict[K, asyncio.Task[V]] = {}
        self._generation = 0
        self._hits = self._misses = self._coalesced = 0

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The fresh value for ``key``, loading it (once, however many callers) if needed.

        Raises whatever ``load`` raises; nothing is stored then.
        """
        entry = self._fresh(key)
        if entry is not None:
            self._hits += 1
            return entry.value
        task = self._loading.get(key)
        if task is None:
            self._misses += 1
            loading = self._load(key, load, self._generation)
            task = asyncio.get_running_loop().create_task(loading)
            self._loading[key] = task
            task.add_done_callback(partial(self._landed, key))
        else:
            self._coalesced += 1
        return await asyncio.shield(task)

    def stats(self) -> CacheStats:
        """Current counters; expired entries are dropped first so ``entries`` is exact."""
        now = self._clock.monotonic()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
        return CacheStats(self.name, len(self._entries), self._hits, self._misses, self._coalesced)

    def clear(self) -> int:
        """Drop every entry and return how many there were.

        A load already under way still answers its callers but does not store its result,
        since it may have started before whatever made the caller clear the cache.
        """
        removed = len(self._entries)
        self._entries.clear()
        self._generation += 1
        return removed

    def _fresh(self, key: K) -> _Entry[V] | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at > self._clock.monotonic():
            return entry
        del self._entries[key]
        return None

    async def _load(self, key: K, load: Callable[[], Awaitable[V]], generation: int) -> V:
        value = await load()
        if self.ttl_seconds > 0 and generation == self._generation:
            self._store(key, value)
        return value

    def _store(self, key: K, value: V) -> None:
        self._entries.pop(key, None)
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = _Entry(value, self._clock.monotonic() + self.ttl_seconds)

    def _landed(self, key: K, task: asyncio.Task[V]) -> None:
        if self._loading.get(key) is task:
            del self._loading[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not logged as lost
