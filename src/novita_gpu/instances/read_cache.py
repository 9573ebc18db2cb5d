"""Rendered instance JSON, kept between reads and dropped on any commit.

An entry is the instance object already serialised, split around the two figures that move
with the clock (``runtimeSeconds`` and ``estimatedCostUsd``), so a hit costs a few byte joins
instead of a query, a view and a serialisation. Freshness is checked on every use against
the database's commit counter (:class:`~novita_gpu.db.freshness.DataVersion`): any commit by
any connection, in this process or another replica sharing the file, empties the cache, so
a read after a write always sees the write. Entries are only stored if no commit was seen
between the check that preceded their query and the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from novita_gpu.db.freshness import DataVersion
from novita_gpu.instances.states import ACCRUING
from novita_gpu.instances.views import InstanceRecord, instance_view, usd

_RUNTIME = "\x00runtime"
_COST = "\x00cost"
_MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class Rendered:
    """One instance object as JSON bytes, with its clock-dependent figures left open."""

    head: bytes
    middle: bytes
    tail: bytes
    accrued: float
    running_since: datetime | None
    price: float

    @classmethod
    def of(cls, row: InstanceRecord, now: datetime) -> Rendered:
        view = instance_view(row, now)
        view["runtimeSeconds"], view["estimatedCostUsd"] = _RUNTIME, _COST
        raw = orjson.dumps(view)
        head, rest = raw.split(orjson.dumps(_RUNTIME), 1)
        middle, tail = rest.split(orjson.dumps(_COST), 1)
        status, since = row.status, row.running_since
        return cls(
            head,
            middle,
            tail,
            row.runtime_seconds,
            since if since is not None and status in ACCRUING else None,
            usd(row.price_units) or 0.0,
        )

    def render(self, now: datetime) -> bytes:
        """The JSON of :func:`~novita_gpu.instances.views.instance_view` at ``now``."""
        runtime = self.accrued
        if self.running_since is not None:
            runtime += max(0.0, (now - self.running_since).total_seconds())
        cost = round(runtime / 3600 * self.price, 6)
        return b"".join(
            (
                self.head,
                orjson.dumps(round(runtime, 3)),
                self.middle,
                orjson.dumps(cost),
                self.tail,
            )
        )


@dataclass(frozen=True, slots=True)
class Page:
    """The unfiltered first page of the list, newest first."""

    items: list[Rendered]
    total: int
    next_cursor: str | None

    def render(self, now: datetime) -> bytes:
        items = b",".join(item.render(now) for item in self.items)
        total = str(self.total).encode()
        return b'{"instances":[%s],"total":%s,"nextCursor":%s}' % (
            items,
            total,
            orjson.dumps(self.next_cursor),
        )


class ReadCache:
    """Instances by reference and first pages by limit, valid until the next commit."""

    def __init__(self, changes: DataVersion) -> None:
        self._changes = changes
        self._generation = 0
        self._instances: dict[str, Rendered] = {}
        self._pages: dict[int, Page] = {}

    def check(self) -> int:
        """Empty the cache if anything was committed since the last check; the generation
        to hand back to :meth:`put` / :meth:`put_page` for what is read next."""
        if self._changes.changed():
            self._generation += 1
            self._instances.clear()
            self._pages.clear()
        return self._generation

    def get(self, reference: str) -> Rendered | None:
        return self._instances.get(reference)

    def put(self, reference: str, entry: Rendered, generation: int) -> None:
        if generation == self._generation and len(self._instances) < _MAX_ENTRIES:
            self._instances[reference] = entry

    def page(self, limit: int) -> Page | None:
        return self._pages.get(limit)

    def put_page(self, limit: int, page: Page, generation: int) -> None:
        if generation == self._generation:
            self._pages[limit] = page
