"""The webhook / stream payload of an event, serialised once at record time.

It carries both shapes client code in the wild expects: ``status`` + ``data`` and ``event`` +
``instance`` (``error`` only on failures). The text is JavaScript-canonical JSON, so a receiver
that re-serialises the parsed body with ``JSON.stringify`` gets the same bytes.
"""

from __future__ import annotations

from typing import Any

from novita_gpu.core import jsjson
from novita_gpu.db.models import InstanceEvent
from novita_gpu.instances.views import iso


def event_payload(event: InstanceEvent, instance_view: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": event.id,
        "event": event.type,
        "instanceId": event.instance_id,
        "status": event.status,
        "timestamp": iso(event.created_at),
        "data": event.data,
        "instance": instance_view,
    }
    error = event.data.get("error")
    if error:
        payload["error"] = error
    return payload


def payload_text(event: InstanceEvent, instance_view: dict[str, Any]) -> str:
    return jsjson.dumps(event_payload(event, instance_view))
