"""Response models of the delivery routes, and their construction from the outbox rows.

URLs are shown without credentials, query string or fragment: webhook URLs often carry tokens.
Times are ISO-8601 UTC with a ``Z`` suffix, like every other timestamp of the API.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from novita_gpu.db.models import WebhookAttempt, WebhookDelivery
from novita_gpu.instances.views import iso, redact_url


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AttemptOut(Out):
    attempt_number: int
    started_at: str | None
    duration_ms: int
    outcome: str
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryOut(Out):
    id: str
    event_id: str
    event_type: str
    instance_id: str
    target: str
    url: str | None
    status: str
    attempt_count: int
    created_at: str | None
    next_attempt_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None
    last_status_code: int | None
    last_error: str | None


class DeliveryDetailOut(DeliveryOut):
    attempts: list[AttemptOut]


class DeliveryListOut(Out):
    deliveries: list[DeliveryOut]


def delivery_out(delivery: WebhookDelivery, event_type: str) -> DeliveryOut:
    return DeliveryOut(**_delivery_fields(delivery, event_type))


def delivery_detail_out(
    delivery: WebhookDelivery, event_type: str, attempts: list[WebhookAttempt]
) -> DeliveryDetailOut:
    return DeliveryDetailOut(
        **_delivery_fields(delivery, event_type), attempts=[attempt_out(a) for a in attempts]
    )


def attempt_out(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        attempt_number=attempt.attempt_number,
        started_at=iso(attempt.started_at),
        duration_ms=attempt.duration_ms,
        outcome=attempt.outcome,
        status_code=attempt.status_code,
        error=attempt.error,
        response_excerpt=attempt.response_excerpt,
    )


def _delivery_fields(delivery: WebhookDelivery, event_type: str) -> dict[str, object]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": event_type,
        "instance_id": delivery.instance_id,
        "target": delivery.target,
        "url": redact_url(delivery.url),
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
        "created_at": iso(delivery.created_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_attempt_at": iso(delivery.last_attempt_at),
        "delivered_at": iso(delivery.delivered_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
    }
