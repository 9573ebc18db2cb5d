"""Events for tests: instances inserted directly and events recorded through the recorder,
in write transactions, exactly as the services do (the transactional outbox included)."""

from __future__ import annotations

from typing import Any

from novita_gpu.context import AppContext
from novita_gpu.core.ids import new_instance_id
from novita_gpu.db.models import Instance, InstanceEvent
from novita_gpu.events.service import EventRecorder
from novita_gpu.events.types import EventType


async def add_instance(
    ctx: AppContext, name: str | None = None, *, webhook_url: str | None = None
) -> str:
    """A managed instance row in ``creating``; returns its id."""
    now = ctx.clock.now()
    instance_id = new_instance_id()
    async with ctx.db.write() as session, session.begin():
        session.add(
            Instance(
                id=instance_id,
                name=name or instance_id.lower(),
                status="creating",
                product_name="RTX 4090 24GB",
                webhook_url=webhook_url,
                created_at=now,
                updated_at=now,
                status_changed_at=now,
            )
        )
    return instance_id


async def record(
    ctx: AppContext,
    instance_id: str,
    event_type: EventType = EventType.CREATED,
    data: dict[str, Any] | None = None,
    *,
    notify: bool = True,
) -> InstanceEvent:
    """Record one event for the instance in its own committed transaction.

    ``notify=False`` leaves this process's event bus alone, as a commit by another replica.
    """
    async with ctx.db.write() as session, session.begin():
        instance = await session.get(Instance, instance_id)
        assert instance is not None
        bus = ctx.bus if notify else None
        recorder = EventRecorder(session, ctx.clock, ctx.global_webhook_url, bus)
        return await recorder.record(instance, event_type, data)
