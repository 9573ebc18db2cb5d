"""Server-sent events: the live stream behind ``GET /api/events``.

Each event is one message: ``id:`` the event id, ``event:`` its type, ``data:`` the stored
payload (the same bytes a webhook carries). The stream is read from the event table
(:mod:`novita_gpu.events.tail`), so it shows events of every replica: this process's commits
wake it at once through the event bus, other replicas' within ``poll_seconds``.

- Start: strictly after ``Last-Event-ID`` (header, or ``lastEventId`` in the query for a
  browser's first connect; the header wins). With no id, from now. With an id we do not know
  (mistyped, or from another database), also from now, and the response says so: header
  ``X-Stream-Reset: unknown-last-event-id`` and a comment line. A 4xx would make browsers'
  ``EventSource`` give up for good, and the client cannot do better than "from now" anyway.
- A comment line ``: ping`` after ``heartbeat_seconds`` of silence keeps proxies from closing
  the connection.
- The stream ends when the client disconnects (noticed at once, not at the next write) and
  when the app closes the event bus on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from novita_gpu.context import AppContext
from novita_gpu.core.errors import ValidationFailed
from novita_gpu.db.models import InstanceEvent
from novita_gpu.events.tail import EventTail, resolve_start
from novita_gpu.events.types import EventType

HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 1.0
RECONNECT_MS = 2000
MAX_EVENT_ID = 128
RESET_HEADER = "X-Stream-Reset"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True)
class StreamFilter:
    """Which events a stream shows: one instance's and/or some types (empty: all)."""

    instance_id: str | None = None
    types: frozenset[str] = frozenset()

    def matches(self, event: InstanceEvent) -> bool:
        if self.instance_id is not None and event.instance_id != self.instance_id:
            return False
        return not self.types or event.type in self.types


def parse_types(raw: str | None) -> frozenset[str]:
    """``instance.ready,instance.failed`` as a set. Raises ValidationFailed for unknown types."""
    types = frozenset(part.strip() for part in (raw or "").split(",") if part.strip())
    unknown = sorted(types - {member.value for member in EventType})
    if unknown:
        raise ValidationFailed.for_field("types", f"unknown event type {', '.join(unknown)}")
    return types


def sse_message(event: InstanceEvent) -> str:
    """One SSE message for ``event`` (multi-line data is split, as the format requires)."""
    data = "".join(f"data: {line}\n" for line in event.payload.split("\n"))
    return f"id: {event.id}\nevent: {event.type}\n{data}\n"


def sse_comment(text: str) -> str:
    return f": {text}\n\n"


@dataclass
class EventStream:
    """The message text of one SSE connection, as an async iterator (:meth:`messages`)."""

    ctx: AppContext
    tail: EventTail
    filter: StreamFilter = field(default_factory=StreamFilter)
    preamble: str = ""
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    poll_seconds: float = POLL_SECONDS

    async def messages(self) -> AsyncIterator[str]:
        """Events as they commit, heartbeats when quiet; ends when the bus closes."""
        clock, bus = self.ctx.clock, self.ctx.bus
        yield f"retry: {RECONNECT_MS}\n\n{self.preamble}"
        quiet_since = clock.monotonic()
        while not bus.closed:
            seen = bus.generation
            chunk = "".join(
                sse_message(e) for e in await self.tail.read() if self.filter.matches(e)
            )
            if chunk:
                yield chunk
                quiet_since = clock.monotonic()
            if self.tail.behind:
                continue
            if clock.monotonic() - quiet_since >= self.heartbeat_seconds:
                yield sse_comment("ping")
                quiet_since = clock.monotonic()
            until_beat = self.heartbeat_seconds - (clock.monotonic() - quiet_since)
            await bus.wait(min(self.poll_seconds, until_beat), since=seen)


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` response that ends as soon as the client goes away.

    Starlette listens for the disconnect only under servers announcing ASGI spec < 2.4 (as
    uvicorn does today); under 2.4 servers it notices only when a write fails, which for a
    quiet stream is the next heartbeat. This response listens in every case.
    """

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.ensure_future(self.stream_response(send))
        listening = asyncio.ensure_future(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait({streaming, listening}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, listening):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await streaming


async def open_stream(
    ctx: AppContext, last_event_id: str | None, stream_filter: StreamFilter
) -> EventStreamResponse:
    """The SSE response for a client that last saw ``last_event_id`` (None: start from now)."""
    given = last_event_id if last_event_id and len(last_event_id) <= MAX_EVENT_ID else None
    seq, resumed = await resolve_start(ctx.db, given)
    tail = await EventTail.after_seq(ctx.db, ctx.clock, seq)
    headers = dict(STREAM_HEADERS)
    preamble = ""
    if last_event_id and not resumed:
        headers[RESET_HEADER] = "unknown-last-event-id"
        preamble = sse_comment("unknown Last-Event-ID; streaming events committed from now on")
    stream = EventStream(ctx, tail, stream_filter, preamble)
    return EventStreamResponse(stream.messages(), headers=headers)
