"""Write transactions with the instance repository and event recorder bound to them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from novita_gpu.context import AppContext
from novita_gpu.db.models import Instance
from novita_gpu.events.service import EventRecorder
from novita_gpu.instances.repository import InstanceRepository

_CONFLICT_ATTEMPTS = 5


@dataclass
class UnitOfWork:
    session: AsyncSession
    instances: InstanceRepository
    recorder: EventRecorder


Change = Callable[[UnitOfWork, Instance], Awaitable[None]]


@asynccontextmanager
async def write_unit(ctx: AppContext) -> AsyncIterator[UnitOfWork]:
    """One write transaction: commits when the block exits cleanly, rolls back otherwise.

    Upstream calls never happen inside one: a transaction must not wait on the network.
    Instances loaded by id are locked for the transaction (see :class:`InstanceRepository`).
    """
    async with ctx.db.write() as session, session.begin():
        recorder = EventRecorder(session, ctx.clock, ctx.global_webhook_url, ctx.bus)
        yield UnitOfWork(session, InstanceRepository(session, lock=True), recorder)


async def update_instance(ctx: AppContext, instance_id: str, change: Change) -> Instance | None:
    """Load the row fresh and apply ``change`` to it in one write transaction.

    When another writer changed the row meanwhile (a version conflict), the change is applied
    again to the newer row, a few times at most; it must therefore decide from the row it is
    given, not from an older copy. Returns the updated row, or None if it does not exist.
    Raises :class:`StaleDataError` if the row kept changing.
    """
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            async with write_unit(ctx) as uow:
                instance = await uow.instances.get(instance_id)
                if instance is not None:
                    await change(uow, instance)
            return instance
        except StaleDataError:
            if attempt == _CONFLICT_ATTEMPTS - 1:
                raise
    return None


async def update_instances(ctx: AppContext, changes: dict[str, Change]) -> dict[str, Instance]:
    """Apply each change to its row, all in one write transaction (one round of reads, one
    flush, one commit, however many rows); returns the updated rows by id (missing ones are
    left out).

    If another writer changed any of the rows meanwhile, the batch is rolled back and every
    change is applied again on its own with :func:`update_instance`, which retries conflicts.
    """
    if not changes:
        return {}
    try:
        async with write_unit(ctx) as uow:
            rows = {row.id: row for row in await uow.instances.get_many(list(changes))}
            for row in rows.values():
                await changes[row.id](uow, row)
        return rows
    except StaleDataError:
        updated = {}
        for instance_id, change in changes.items():
            one = await update_instance(ctx, instance_id, change)
            if one is not None:
                updated[instance_id] = one
        return updated


@dataclass
class _Waiting:
    instance_id: str
    change: Change
    done: asyncio.Future[Instance | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupedUpdates:
    """Single-row updates from concurrent tasks, written together (group commit).

    The first caller writes; callers that arrive meanwhile wait and are written by it in the
    next transaction, up to ``batch`` rows each. Under a burst of small writes (fifty probe
    rounds ending together) that is a few transactions instead of fifty, each taking SQLite's
    write lock once. Each change must decide from the row it is given, as with
    :func:`update_instance`; a version conflict re-applies the changes one by one.
    """

    def __init__(self, ctx: AppContext, batch: int = 25) -> None:
        self._ctx = ctx
        self._batch = batch
        self._queue: list[_Waiting] = []
        self._writing = False

    async def apply(self, instance_id: str, change: Change) -> Instance | None:
        """Apply ``change`` to the row and return it updated (None if it does not exist)."""
        waiting = _Waiting(instance_id, change)
        self._queue.append(waiting)
        if not self._writing:
            self._writing = True
            try:
                await asyncio.sleep(0)  # let the tasks that finish in this turn join
                await self._write_all()
            finally:
                self._writing = False
        return await waiting.done

    async def _write_all(self) -> None:
        while self._queue:
            batch = self._take_batch()
            try:
                rows = await update_instances(self._ctx, {w.instance_id: w.change for w in batch})
            except Exception as exc:  # each caller gets it from its own future
                self._fail([*batch, *self._queue], exc)
                return
            except BaseException:
                self._fail([*batch, *self._queue], None)
                raise
            for waiting in batch:
                if not waiting.done.done():  # its caller may have been cancelled meanwhile
                    waiting.done.set_result(rows.get(waiting.instance_id))

    def _fail(self, waiting: list[_Waiting], exc: Exception | None) -> None:
        """Fail the given callers with ``exc``, or cancel them (the writer was cancelled, and
        with it the writes it carried)."""
        self._queue.clear()
        for each in waiting:
            if each.done.done():
                continue
            if exc is None:
                each.done.cancel()
            else:
                each.done.set_exception(exc)

    def _take_batch(self) -> list[_Waiting]:
        """Up to ``batch`` waiting changes, at most one per row (a second waits its turn)."""
        batch: list[_Waiting] = []
        ids: set[str] = set()
        for waiting in list(self._queue):
            if len(batch) == self._batch:
                break
            if waiting.instance_id not in ids:
                ids.add(waiting.instance_id)
                batch.append(waiting)
                self._queue.remove(waiting)
        return batch
