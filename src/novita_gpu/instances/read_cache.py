"""Rendered instance JSON, kept between reads and dropped on any commit.

An entry is the instance object already serialised, split around the two figures that move
with the clock (``runtimeSeconds`` and ``estimatedCostUsd``), so a hit costs a few byte joins
instead of a query, a view and a serialisation. Freshness is checked on every use against
the database's commit counter (:class:`~novita_gpu.db.freshness.DataVersion`): any commit by
any connection, in this process or another replica sharing the file, empties the cache, so
a read after a write always sees the write. Entries are only stored if no commit was seen
between the check that preceded their query and the store, and concurrent misses of one key
share a single query (a burst of readers after a commit costs one load, not one each).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

import orjson

from novita_gpu.db.freshness import DataVersion
from novita_gpu.instances.states import ACCRUING
from novita_gpu.instances.views import InstanceRecord, instance_view, usd

_RUNTIME = "\x00runtime"
_COST = "\x00cost"
_MAX_ENTRIES = 20_000

Loader = Callable[[], Awaitable["Rendered | None"]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """Instance objects as JSON bytes with their clock-dependent figures left open.

    ``parts`` holds the fixed bytes around two numbers per instance (runtime, then cost):
    ``parts[0] runtime0 parts[1] cost0 parts[2] runtime1 ...``. One instance or a whole page
    renders with one serialisation of all its numbers and one join.
    """

    parts: tuple[bytes, ...]
    accrued: tuple[float, ...]
    running_since: tuple[datetime | None, ...]
    prices: tuple[float, ...]

    @classmethod
    def of(cls, row: InstanceRecord, now: datetime) -> Rendered:
        view = instance_view(row, now)
        view["runtimeSeconds"], view["estimatedCostUsd"] = _RUNTIME, _COST
        raw = orjson.dumps(view)
        head, rest = raw.split(orjson.dumps(_RUNTIME), 1)
        middle, tail = rest.split(orjson.dumps(_COST), 1)
        since = row.running_since if row.status in ACCRUING else None
        price = usd(row.price_units) or 0.0
        return cls((head, middle, tail), (row.runtime_seconds,), (since,), (price,))

    @classmethod
    def joined(cls, items: list[Rendered], prefix: bytes, suffix: bytes) -> Rendered:
        """``prefix``, the items separated by commas, ``suffix``: a JSON array in a document."""
        parts: list[bytes] = [prefix]
        for item in items:
            parts[-1] += item.parts[0]
            parts.extend(item.parts[1:])
            parts[-1] += b","
        parts[-1] = parts[-1].removesuffix(b",") + suffix if items else prefix + suffix
        return cls(
            tuple(parts),
            tuple(a for item in items for a in item.accrued),
            tuple(s for item in items for s in item.running_since),
            tuple(p for item in items for p in item.prices),
        )

    def render(self, now: datetime) -> bytes:
        """The JSON of :func:`~novita_gpu.instances.views.instance_view` at ``now``."""
        numbers: list[float] = []
        for accrued, since, price in zip(
            self.accrued, self.running_since, self.prices, strict=True
        ):
            runtime = accrued
            if since is not None:
                runtime += max(0.0, (now - since).total_seconds())
            numbers += (round(runtime, 3), round(runtime / 3600 * price, 6))
        if not numbers:
            return self.parts[0]
        texts = orjson.dumps(numbers)[1:-1].split(b",")
        out = [b""] * (len(self.parts) + len(texts))
        out[0::2] = self.parts
        out[1::2] = texts
        return b"".join(out)


def page(items: list[Rendered], total: int, next_cursor: str | None) -> Rendered:
    """The list response ``{"instances": [...], "total", "nextCursor"}`` around ``items``."""
    suffix = b'],"total":%d,"nextCursor":%s}' % (total, orjson.dumps(next_cursor))
    return Rendered.joined(items, b'{"instances":[', suffix)


class ReadCache:
    """Rendered reads by key, valid until the next commit; concurrent misses share one load."""

    def __init__(self, changes: DataVersion) -> None:
        self._changes = changes
        self._generation = 0
        self._entries: dict[Hashable, Rendered] = {}
        self._loading: dict[Hashable, asyncio.Task[Rendered | None]] = {}

    async def get(self, key: Hashable, load: Loader) -> Rendered | None:
        """The entry for ``key``, loaded with ``load`` (None: nothing to cache) on a miss.

        Checks for commits first: a commit since the previous call empties the cache and
        forgets loads in flight, so only a load started after the check is ever joined.
        """
        if self._changes.changed():
            self._generation += 1
            self._entries.clear()
            self._loading.clear()
        found = self._entries.get(key)
        if found is not None:
            return found
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, load, self._generation))
            self._loading[key] = loading
        return await asyncio.shield(loading)

    async def _load(self, key: Hashable, load: Loader, generation: int) -> Rendered | None:
        try:
            entry = await load()
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]
        fresh = generation == self._generation
        if entry is not None and fresh and len(self._entries) < _MAX_ENTRIES:
            self._entries[key] = entry
        return entry
