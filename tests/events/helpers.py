"""Events with chosen sequence numbers, to stage commits that land out of order."""

from __future__ import annotations

from novita_gpu.context import AppContext
from novita_gpu.core.ids import new_event_id
from novita_gpu.db.models import InstanceEvent


async def insert_event(ctx: AppContext, instance_id: str, seq: int) -> InstanceEvent:
    """Commit an event numbered ``seq`` (as if its transaction committed only now)."""
    event = InstanceEvent(
        seq=seq,
        id=new_event_id(),
        instance_id=instance_id,
        type="instance.created",
        status="creating",
        data={},
        payload=f'{{"seq":{seq}}}',
        created_at=ctx.clock.now(),
    )
    async with ctx.db.write() as session, session.begin():
        session.add(event)
    return event
