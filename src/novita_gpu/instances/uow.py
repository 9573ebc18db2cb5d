"""A write transaction with the instance repository and event recorder bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.core.context import AppContext
from novita_gpu.events.service import EventRecorder
from novita_gpu.instances.repository import InstanceRepository


@dataclass
class UnitOfWork:
    session: AsyncSession
    instances: InstanceRepository
    recorder: EventRecorder


@asynccontextmanager
async def write_unit(ctx: AppContext) -> AsyncIterator[UnitOfWork]:
    """One write transaction: commits when the block exits cleanly, rolls back otherwise.

    Upstream calls never happen inside one: a transaction must not wait on the network.
    """
    async with ctx.db.write() as session, session.begin():
        recorder = EventRecorder(session, ctx.clock, ctx.global_webhook_url, ctx.bus)
        yield UnitOfWork(session, InstanceRepository(session), recorder)
