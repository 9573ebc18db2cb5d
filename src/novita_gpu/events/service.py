"""Recording events: the event row and its webhook outbox rows join the caller's transaction.

This is the transactional outbox: a status change, its event and
the deliveries that announce it commit together or not at all. Nothing is sent here; the
webhook dispatcher sends committed deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.core.clock import Clock
from novita_gpu.core.ids import new_delivery_id, new_event_id
from novita_gpu.db.models import Instance, InstanceEvent, WebhookDelivery
from novita_gpu.events.bus import EventBus
from novita_gpu.events.payload import payload_text
from novita_gpu.events.types import EventType
from novita_gpu.instances.views import instance_view


@dataclass
class EventRecorder:
    """Appends events for one session. ``global_webhook_url`` is ``WEBHOOK_URL``, if set."""

    session: AsyncSession
    clock: Clock
    global_webhook_url: str | None = None
    bus: EventBus | None = None

    async def record(
        self, instance: Instance, event_type: EventType, data: dict[str, Any] | None = None
    ) -> InstanceEvent:
        """Append ``event_type`` for ``instance`` (in its current state) and queue its webhooks.

        Flushes the session (the event needs the instance row and its own sequence number).
        """
        now = self.clock.now()
        self.session.add(instance)
        await self.session.flush()
        event = InstanceEvent(
            id=new_event_id(),
            instance_id=instance.id,
            type=event_type.value,
            status=instance.status,
            data=data or {},
            created_at=now,
        )
        event.payload = payload_text(event, instance_view(instance, now))
        self.session.add(event)
        await self.session.flush()
        for target, url in self._targets(instance):
            self.session.add(self._delivery(event, target, url))
        if self.bus is not None:
            self.bus.attach(self.session.sync_session, instance.id)
        return event

    def _targets(self, instance: Instance) -> list[tuple[str, str]]:
        targets = []
        if instance.webhook_url:
            targets.append(("instance", instance.webhook_url))
        if self.global_webhook_url and self.global_webhook_url != instance.webhook_url:
            targets.append(("global", self.global_webhook_url))
        return targets

    def _delivery(self, event: InstanceEvent, target: str, url: str) -> WebhookDelivery:
        now = event.created_at
        return WebhookDelivery(
            id=new_delivery_id(),
            event_id=event.id,
            event_seq=event.seq,
            instance_id=event.instance_id,
            target=target,
            url=url,
            status="pending",
            attempt_count=0,
            next_attempt_at=now,
            created_at=now,
        )
