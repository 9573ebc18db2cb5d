"""Write transactions with the instance repository and event recorder bound to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from novita_gpu.context import AppContext
from novita_gpu.core.batching import Batcher
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


class GroupedUpdates:
    """Single-row updates from concurrent tasks, written together (group commit, see
    :mod:`novita_gpu.core.batching`): fifty probe rounds ending together are a few
    transactions instead of fifty. Each change must decide from the row it is given, as with
    :func:`update_instance`; a version conflict re-applies the changes one by one. Two
    changes to one row go in separate transactions, in the order they came.
    """

    def __init__(self, ctx: AppContext, batch: int = 25) -> None:
        self._ctx = ctx
        self._batcher: Batcher[tuple[str, Change], Instance | None] = Batcher(
            self._write, size=batch, key=lambda item: item[0]
        )

    async def apply(self, instance_id: str, change: Change) -> Instance | None:
        """Apply ``change`` to the row and return it updated (None if it does not exist)."""
        return await self._batcher.submit((instance_id, change))

    async def _write(self, items: list[tuple[str, Change]]) -> list[Instance | None]:
        rows = await update_instances(self._ctx, dict(items))
        return [rows.get(instance_id) for instance_id, _ in items]
