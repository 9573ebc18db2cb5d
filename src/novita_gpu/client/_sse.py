"""Server-sent events: a line decoder following the WHATWG "event stream" rules, and the
step from a raw message to an :class:`~novita_gpu.client._models.Event`.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pydantic

from novita_gpu.client._config import Retries
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
    """Feed lines (without their line endings); a blank line dispatches the message.

    ``retry`` is the latest reconnection time the server asked for (ms), even if no message
    has been dispatched since.
    """

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._last_event_id: str | None = None
        self.retry: int | None = None

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
            self.retry = int(value)
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
            retry=self.retry,
        )


def iter_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for line in lines:
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


@dataclass
class StreamCursor:
    """Where a reconnecting stream stands: the last event id seen (sent as ``Last-Event-ID``
    on reconnect), the server's ``retry`` hint, and how many connections failed in a row."""

    last_event_id: str | None = None
    failures: int = 0
    received: bool = False
    decoder: SSEDecoder = field(default_factory=SSEDecoder)

    def feed(self, line: str) -> Event | None:
        """The event completed by ``line``, if any."""
        message = self.decoder.decode(line)
        if message is None:
            return None
        self.received = True
        self.last_event_id = message.id or self.last_event_id
        return event_from_sse(message)

    def reconnect_delay(self, retries: Retries) -> float | None:
        """Seconds before reconnecting after a connection ended, or None to give up.

        A connection that delivered messages resets the failure count; the server's
        ``retry`` hint replaces the backoff.
        """
        self.failures = 1 if self.received else self.failures + 1
        self.received = False
        hint = None if self.decoder.retry is None else self.decoder.retry / 1000
        return retries.delay_for(self.failures, hint)
