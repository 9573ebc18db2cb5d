"""The event stream: SSE decoding rules, event parsing, and ``stream_events`` resuming from
the last event id after the connection ends."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest

from novita_gpu.client import Client, NetworkError, NotFoundError
from novita_gpu.client._sse import ServerSentEvent, event_from_sse, iter_sse
from tests.client.conftest import Recorder, error_json, instance_json


def payload(event_id: str, kind: str = "instance.ready") -> dict[str, Any]:
    return {
        "id": event_id,
        "event": kind,
        "instanceId": "inst_1",
        "status": "ready",
        "timestamp": "2025-01-01T00:00:00.000Z",
        "data": {"connectionDetails": {}},
        "instance": instance_json(status="ready"),
    }


def frame(event_id: str, kind: str = "instance.ready") -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(payload(event_id, kind))}\n\n"


def stream(*frames: str) -> httpx.Response:
    return httpx.Response(
        200, headers={"Content-Type": "text/event-stream"}, content="".join(frames).encode()
    )


class TestDecoder:
    def test_fields_multiline_data_and_comments(self) -> None:
        lines = [": keep-alive", "id: 7", "event: tick", "data: a", "data:b", "retry: 1500", ""]
        assert list(iter_sse(lines)) == [
            ServerSentEvent(event="tick", data="a\nb", id="7", retry=1500)
        ]

    def test_id_persists_and_event_type_resets(self) -> None:
        messages = list(iter_sse(["id: 1", "event: x", "data: one", "", "data: two", ""]))
        assert [(m.id, m.event, m.data) for m in messages] == [
            ("1", "x", "one"),
            ("1", "message", "two"),
        ]

    def test_a_blank_line_without_data_dispatches_nothing(self) -> None:
        assert list(iter_sse(["event: x", "", "id: 3", ""])) == []

    def test_ignores_unknown_fields_and_bad_retry(self) -> None:
        messages = list(iter_sse(["foo: bar", "retry: soon", "data", ""]))
        assert messages == [ServerSentEvent(data="")]


class TestEventFromSse:
    def test_stream_payload(self) -> None:
        event = event_from_sse(ServerSentEvent(data=json.dumps(payload("evt_1")), id="evt_1"))
        assert event is not None
        assert (event.id, event.type, event.instance_id) == ("evt_1", "instance.ready", "inst_1")
        assert event.instance is not None
        assert event.instance.status == "ready"

    def test_sse_fields_fill_in_missing_ones(self) -> None:
        data = {"instanceId": "inst_1", "status": "stopped"}
        event = event_from_sse(
            ServerSentEvent(event="instance.stopped", data=json.dumps(data), id="evt_9")
        )
        assert event is not None
        assert (event.id, event.type) == ("evt_9", "instance.stopped")

    @pytest.mark.parametrize("data", ["not json", "[1, 2]", '{"hello": "world"}'])
    def test_anything_else_is_skipped(self, data: str) -> None:
        assert event_from_sse(ServerSentEvent(data=data, id="1")) is None


class TestStreamEvents:
    def test_yields_events_and_resumes_with_last_event_id(
        self, client: Client, recorder: Recorder, sleeps: list[float]
    ) -> None:
        recorder.reply(
            stream(": hello\n\n", frame("evt_1"), frame("evt_2")), stream(frame("evt_3"))
        )
        events = list(itertools.islice(client.stream_events(last_event_id="evt_0"), 3))
        assert [event.id for event in events] == ["evt_1", "evt_2", "evt_3"]
        first, second = recorder.requests
        assert first.url.path == "/api/events"
        assert first.headers["Accept"] == "text/event-stream"
        assert first.headers["Last-Event-ID"] == "evt_0"
        assert second.headers["Last-Event-ID"] == "evt_2"
        assert sleeps == [0.5]

    def test_a_stream_that_keeps_failing_raises(
        self, client: Client, recorder: Recorder, sleeps: list[float]
    ) -> None:
        recorder.reply(httpx.ConnectError("refused"))
        with pytest.raises(NetworkError):
            next(client.stream_events())
        assert len(recorder.requests) == 3

    def test_an_error_response_raises_its_typed_error(
        self, client: Client, recorder: Recorder
    ) -> None:
        recorder.reply(httpx.Response(404, json=error_json("NOT_FOUND", "No such route")))
        with pytest.raises(NotFoundError):
            next(client.stream_events())
        assert len(recorder.requests) == 1

    def test_filters_and_the_servers_retry_hint(
        self, client: Client, recorder: Recorder, sleeps: list[float]
    ) -> None:
        recorder.reply(stream("retry: 2000\n\n", frame("evt_1")), stream(frame("evt_2")))
        stream_iter = client.stream_events(instance_id="inst_1", types=["instance.ready"])
        assert [next(stream_iter).id, next(stream_iter).id] == ["evt_1", "evt_2"]
        assert dict(recorder.requests[0].url.params) == {
            "instanceId": "inst_1",
            "types": "instance.ready",
        }
        assert sleeps == [2.0]

    def test_a_server_that_keeps_closing_at_once_is_given_up_on(
        self, client: Client, recorder: Recorder, sleeps: list[float]
    ) -> None:
        recorder.reply(stream(frame("evt_1")), stream(": nothing\n\n"))
        events = client.stream_events()
        assert next(events).id == "evt_1"
        with pytest.raises(NetworkError, match="ended"):
            next(events)
        assert len(recorder.requests) == 3
        assert sleeps == [0.5, 1.0]
