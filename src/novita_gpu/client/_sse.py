"""Server-sent events: a line decoder following the WHATWG "event stream" rules, and the
step from a raw message to an :class:`~novita_gpu.client._models.Event`.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import pydantic

from novita_gpu.client._models import Event


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched message: ``event`` defaults to ``message``, ``data`` lines joined by
    newlines, ``id`` is the last event id in force, ``retry`` the reconnection time (ms)."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed lines (without their line endings); a blank line dispatches the message."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._last_event_id: str | None = None
        self._retry: int | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        """The message completed by ``line``, if any. Comments (``:...``) are ignored."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_event_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(
            event=event or "message",
            data="\n".join(data),
            id=self._last_event_id,
            retry=self._retry,
        )


def iter_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for line in lines:
        message = decoder.decode(line)
        if message is not None:
            yield message


async def aiter_sse(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    decoder = SSEDecoder()
    async for line in lines:
        message = decoder.decode(line)
        if message is not None:
            yield message


def event_from_sse(message: ServerSentEvent) -> Event | None:
    """The instance event carried by ``message``; None for anything else (keep-alives,
    kinds this SDK does not know). The SSE ``id``/``event`` fill in what the JSON lacks."""
    try:
        payload = json.loads(message.data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if message.id is not None:
        payload.setdefault("id", message.id)
    if message.event != "message":
        payload.setdefault("event", message.event)
    try:
        return Event.model_validate(payload)
    except pydantic.ValidationError:
        return None
