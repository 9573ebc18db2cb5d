"""All SQL about webhook deliveries and their attempts (the outbox tables).

Claiming (:meth:`DeliveryRepository.claim_due`) enforces two rules in one query: a delivery is
due (``pending`` and its time has come, or ``delivering`` under an expired lease: its
dispatcher died), and nothing earlier for the same instance and target is unfinished
(per-instance order). Claimed rows become ``delivering`` under the claimer's lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, Select, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from novita_gpu.db.locking import skip_locked
from novita_gpu.db.models import InstanceEvent, WebhookAttempt, WebhookDelivery
from novita_gpu.webhooks.states import UNFINISHED, AttemptOutcome, DeliveryStatus

PENDING_STATES = tuple(status.value for status in UNFINISHED)
Delivery = WebhookDelivery


@dataclass(frozen=True)
class Backlog:
    """Undelivered deliveries: how many, the oldest one's age, and final failures."""

    pending: int
    oldest_pending_seconds: float
    failed: int
    retrying: int = 0
    delivering: int = 0


@dataclass(frozen=True)
class ClaimedDelivery:
    """A leased delivery with what sending it needs (detached from any session)."""

    id: str
    event_id: str
    event_type: str
    instance_id: str
    target: str
    url: str
    payload: str
    attempt_count: int
    queued_at: datetime
    event_created_at: datetime


@dataclass(frozen=True)
class AttemptRecord:
    """The outcome of one attempt and the delivery state it leads to."""

    started_at: datetime
    finished_at: datetime
    duration_ms: int
    outcome: str
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    status: DeliveryStatus
    next_attempt_at: datetime | None
    last_error: str | None


def _due_ids_query() -> Select[str]:
    """Due deliveries (bind parameters ``now`` and ``limit``) not queued behind an unfinished
    earlier one for the same instance and target. Built once: the dispatcher asks every second."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        earlier.instance_id == Delivery.instance_id,
        earlier.target == Delivery.target,
        earlier.event_seq < Delivery.event_seq,
        earlier.status.in_(PENDING_STATES),
    )
    now: BindParameter[datetime] = bindparam("now")
    due = or_(
        and_(Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at <= now),
        and_(Delivery.status == DeliveryStatus.DELIVERING.value, Delivery.lease_expires_at < now),
    )
    return (
        select(Delivery.id)
        .where(due, ~blocked)
        .order_by(Delivery.next_attempt_at, Delivery.event_seq)
        .limit(bindparam("limit", type_=Integer))
    )


_DUE_IDS = _due_ids_query()


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def backlog(self, now: datetime) -> Backlog:
        """Undelivered count and oldest age, final failures, retries waiting, in flight."""
        query = select(
            func.count(),
            func.min(Delivery.created_at),
            func.count().filter(
                Delivery.attempt_count > 0, Delivery.status == DeliveryStatus.PENDING.value
            ),
            func.count().filter(Delivery.status == DeliveryStatus.DELIVERING.value),
        ).where(Delivery.status.in_(PENDING_STATES))
        pending, oldest, retrying, delivering = (await self.session.execute(query)).one()
        failed_q = select(func.count()).where(Delivery.status == DeliveryStatus.FAILED.value)
        failed = (await self.session.execute(failed_q)).scalar_one()
        age = (now - oldest).total_seconds() if oldest else 0.0
        return Backlog(pending, max(0.0, age), failed, retrying, delivering)

    async def claim_due(
        self, owner: str, now: datetime, hold: timedelta, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries to ``owner`` until ``now + hold``.

        At most one delivery per instance and target is claimed, and only when every earlier
        one there is finished. The caller commits before sending.
        """
        due = skip_locked(_DUE_IDS, self.session, of=Delivery)
        ids = list((await self.session.execute(due, {"now": now, "limit": limit})).scalars())
        if not ids:
            return []
        await self._record_interrupted(ids, now)
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(
                status=DeliveryStatus.DELIVERING.value,
                lease_owner=owner,
                lease_expires_at=now + hold,
            )
            .execution_options(synchronize_session=False)
        )
        return await self._claimed(ids)

    async def _record_interrupted(self, ids: list[str], now: datetime) -> None:
        """Among ``ids``, the deliveries taken over from a dispatcher whose lease expired mid-
        attempt: record that attempt as ``interrupted`` (it may or may not have arrived)."""
        query = select(Delivery.id, Delivery.lease_owner, Delivery.lease_expires_at).where(
            Delivery.id.in_(ids), Delivery.status == DeliveryStatus.DELIVERING.value
        )
        for delivery_id, owner, expired_at in (await self.session.execute(query)).all():
            self.session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempt_number=await self._next_attempt_number(delivery_id),
                    started_at=now,
                    duration_ms=0,
                    outcome=AttemptOutcome.INTERRUPTED.value,
                    error=f"dispatcher {owner} stopped mid-attempt (lease expired {expired_at})",
                )
            )
            await self.session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(attempt_count=Delivery.attempt_count + 1)
                .execution_options(synchronize_session=False)
            )
        await self.session.flush()

    async def renew(self, delivery_id: str, owner: str, until: datetime) -> bool:
        """Extend ``owner``'s lease on a delivery it is sending; False if it lost it."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.lease_owner == owner,
                Delivery.status == DeliveryStatus.DELIVERING.value,
            )
            .values(lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _claimed(self, ids: list[str]) -> list[ClaimedDelivery]:
        query = (
            select(Delivery, InstanceEvent.type, InstanceEvent.payload, InstanceEvent.created_at)
            .join(InstanceEvent, InstanceEvent.id == Delivery.event_id)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.next_attempt_at, Delivery.event_seq)
        )
        rows = (await self.session.execute(query)).all()
        return [
            ClaimedDelivery(
                id=d.id,
                event_id=d.event_id,
                event_type=event_type,
                instance_id=d.instance_id,
                target=d.target,
                url=d.url,
                payload=payload,
                attempt_count=d.attempt_count,
                queued_at=d.created_at,
                event_created_at=created_at,
            )
            for d, event_type, payload, created_at in rows
        ]

    async def record_attempt(
        self, delivery: ClaimedDelivery, owner: str, record: AttemptRecord
    ) -> bool:
        """Store the attempt row and move the delivery on, releasing ``owner``'s lease.

        The attempt row is always stored (it happened). The delivery is updated only if
        ``owner`` still holds it; False when another dispatcher took it over meanwhile.
        """
        self.session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                attempt_number=await self._next_attempt_number(delivery.id),
                started_at=record.started_at,
                duration_ms=record.duration_ms,
                outcome=record.outcome,
                status_code=record.status_code,
                error=record.error,
                response_excerpt=record.response_excerpt,
            )
        )
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery.id,
                Delivery.lease_owner == owner,
                Delivery.status == DeliveryStatus.DELIVERING.value,
            )
            .values(**_delivery_changes(delivery, record))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def _next_attempt_number(self, delivery_id: str) -> int:
        query = select(func.count()).where(WebhookAttempt.delivery_id == delivery_id)
        return int((await self.session.execute(query)).scalar_one()) + 1

    async def recent(
        self, *, instance_id: str | None, status: str | None, limit: int
    ) -> Sequence[tuple[WebhookDelivery, str]]:
        """Deliveries with their event type, newest first, optionally filtered."""
        query = select(Delivery, InstanceEvent.type).join(
            InstanceEvent, InstanceEvent.id == Delivery.event_id
        )
        if instance_id is not None:
            query = query.where(Delivery.instance_id == instance_id)
        if status is not None:
            query = query.where(Delivery.status == status)
        query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
        return [(row[0], row[1]) for row in (await self.session.execute(query)).all()]

    async def get(self, delivery_id: str) -> tuple[WebhookDelivery, str] | None:
        """One delivery with its event type, or None."""
        query = (
            select(Delivery, InstanceEvent.type)
            .join(InstanceEvent, InstanceEvent.id == Delivery.event_id)
            .where(Delivery.id == delivery_id)
        )
        row = (await self.session.execute(query)).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def attempts(self, delivery_id: str) -> Sequence[WebhookAttempt]:
        """The delivery's attempts, first first."""
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.attempt_number, WebhookAttempt.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def requeue_failed(self, delivery_id: str, now: datetime) -> bool:
        """Queue a ``failed`` delivery afresh: due now, with a new attempt budget and window.

        ``created_at`` becomes ``now`` (it is when the delivery was last queued). False when
        the delivery is not ``failed``.
        """
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.FAILED.value)
            .values(
                status=DeliveryStatus.PENDING.value,
                attempt_count=0,
                created_at=now,
                next_attempt_at=now,
                lease_owner=None,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def purge_delivered(self, delivered_before: datetime) -> int:
        """Drop delivered deliveries (and their attempts) older than ``delivered_before``."""
        result = await self.session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.status == DeliveryStatus.SUCCEEDED.value,
                WebhookDelivery.delivered_at < delivered_before,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _delivery_changes(delivery: ClaimedDelivery, record: AttemptRecord) -> dict[str, object]:
    succeeded = record.status is DeliveryStatus.SUCCEEDED
    changes: dict[str, object] = {
        "status": record.status.value,
        "attempt_count": delivery.attempt_count + 1,
        "last_attempt_at": record.started_at,
        "last_status_code": record.status_code,
        "last_error": None if succeeded else record.last_error,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if record.next_attempt_at is not None:
        changes["next_attempt_at"] = record.next_attempt_at
    if succeeded:
        changes["delivered_at"] = record.finished_at
    return changes
