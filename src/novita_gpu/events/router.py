"""``GET /api/events``: the live event stream (server-sent events) of every instance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from novita_gpu.deps import ContextDep
from novita_gpu.events.stream import EventStreamResponse, StreamFilter, open_stream, parse_types

router = APIRouter(prefix="/api", tags=["events"])

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: `id:` event id, `event:` type, `data:` payload",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/events", response_class=EventStreamResponse, responses=_SSE_DOC)
async def stream_events(
    ctx: ContextDep,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[str | None, Query(alias="lastEventId", max_length=128)] = None,
    instance_id: Annotated[str | None, Query(alias="instanceId", max_length=64)] = None,
    types: Annotated[str | None, Query(max_length=2000)] = None,
) -> EventStreamResponse:
    """Every event as it happens; resumes strictly after ``Last-Event-ID``.

    ``instanceId`` and ``types`` (comma-separated) filter. An unknown ``Last-Event-ID`` starts
    from now and sets ``X-Stream-Reset: unknown-last-event-id``.
    """
    stream_filter = StreamFilter(instance_id, parse_types(types))
    return await open_stream(ctx, last_event_id_header or last_event_id, stream_filter)
