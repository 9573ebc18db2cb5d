"""``GET /api/events``: live events as SSE, resume from ``Last-Event-ID``, filters, heartbeats,
and clean ends on client disconnect and app shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.db.models import InstanceEvent
from novita_gpu.events.stream import EventStream, StreamFilter, sse_message
from novita_gpu.events.tail import EventTail, resolve_start
from novita_gpu.events.types import EventType
from tests.conftest import Api, app_options
from tests.events.conftest import BareApp, LiveServer
from tests.support.events import add_instance, record
from tests.support.polling import eventually
from tests.support.settings import make_settings

Message = dict[str, str]


async def open_stream(api: Api, stream_filter: StreamFilter | None = None) -> AsyncIterator[str]:
    seq, _ = await resolve_start(api.ctx.db, None)
    tail = await EventTail.after_seq(api.ctx.db, api.clock, seq)
    return EventStream(api.ctx, tail, stream_filter or StreamFilter()).messages()


async def next_chunk(messages: AsyncIterator[str]) -> str:
    return await asyncio.wait_for(anext(messages), 5)


class TestMessages:
    def test_an_event_is_id_type_and_payload(self) -> None:
        event = InstanceEvent(id="evt_1", type="instance.ready", payload='{"a":"b"}')
        assert sse_message(event) == 'id: evt_1\nevent: instance.ready\ndata: {"a":"b"}\n\n'

    def test_a_multi_line_payload_is_split_into_data_lines(self) -> None:
        event = InstanceEvent(id="evt_1", type="instance.ready", payload="{\n}")
        assert sse_message(event) == "id: evt_1\nevent: instance.ready\ndata: {\ndata: }\n\n"


class TestEventStream:
    async def test_starts_with_the_reconnect_delay_then_sends_new_events(self, api: Api) -> None:
        messages = await open_stream(api)
        assert await next_chunk(messages) == "retry: 2000\n\n"
        event = await record(api.ctx, await add_instance(api.ctx))
        assert await next_chunk(messages) == sse_message(event)

    async def test_a_ping_after_fifteen_quiet_seconds(self, api: Api) -> None:
        messages = await open_stream(api)
        await next_chunk(messages)
        waiting = asyncio.ensure_future(anext(messages))
        await eventually(lambda: api.clock.pending_sleepers > 0)
        api.clock.advance(14)
        await asyncio.sleep(0.05)
        assert not waiting.done()
        for _ in range(3):
            await eventually(lambda: api.clock.pending_sleepers > 0 or waiting.done())
            api.clock.advance(1)
        assert await asyncio.wait_for(waiting, 5) == ": ping\n\n"

    async def test_filters_by_instance_and_type(self, api: Api) -> None:
        one, two = await add_instance(api.ctx, "one"), await add_instance(api.ctx, "two")
        wanted = StreamFilter(instance_id=two, types=frozenset({"instance.ready"}))
        messages = await open_stream(api, wanted)
        await next_chunk(messages)
        await record(api.ctx, one, EventType.READY)
        await record(api.ctx, two, EventType.STARTING)
        event = await record(api.ctx, two, EventType.READY)
        assert await next_chunk(messages) == sse_message(event)

    async def test_ends_when_the_bus_closes(self, api: Api) -> None:
        messages = await open_stream(api)
        await next_chunk(messages)
        waiting = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(0.01)
        api.ctx.bus.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 5)


@asynccontextmanager
async def sse(live: LiveServer, **options: Any) -> AsyncIterator[SseReader]:
    async with live.client.stream("GET", "/api/events", **options) as response:
        yield SseReader(response)


class SseReader:
    """Parses an SSE response into messages (``comment`` holds comment lines)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self) -> Message:
        return await asyncio.wait_for(self._next(), 5)

    async def _next(self) -> Message:
        fields: Message = {}
        async for line in self._lines:
            if not line:
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            key = name or "comment"
            fields[key] = fields[key] + "\n" + value.strip() if key in fields else value.strip()
        raise AssertionError("the stream ended")

    async def events(self, count: int) -> list[Message]:
        found: list[Message] = []
        while len(found) < count:
            message = await self.next()
            if "event" in message:
                found.append(message)
        return found


class TestOverHttp:
    async def test_live_events_as_server_sent_events(self, live: LiveServer) -> None:
        instance_id = await add_instance(live.ctx)
        async with sse(live) as stream:
            assert stream.response.headers["content-type"].startswith("text/event-stream")
            assert stream.response.headers["cache-control"] == "no-cache"
            assert await stream.next() == {"retry": "2000"}
            event = await record(live.ctx, instance_id)
            [message] = await stream.events(1)
        assert message == {"id": event.id, "event": "instance.created", "data": event.payload}
        assert json.loads(message["data"])["instanceId"] == instance_id

    async def test_resumes_strictly_after_last_event_id(self, live: LiveServer) -> None:
        events = await record_three(live)
        headers = {"Last-Event-ID": events[0].id}
        async with sse(live, headers=headers) as stream:
            received = await stream.events(2)
        assert [m["id"] for m in received] == [events[1].id, events[2].id]

    async def test_resumes_after_the_last_event_id_query_parameter(self, live: LiveServer) -> None:
        events = await record_three(live)
        async with sse(live, params={"lastEventId": events[1].id}) as stream:
            [received] = await stream.events(1)
        assert received["id"] == events[2].id

    async def test_an_unknown_last_event_id_streams_from_now_and_says_so(
        self, live: LiveServer
    ) -> None:
        events = await record_three(live)
        async with sse(live, headers={"Last-Event-ID": "evt_gone"}) as stream:
            assert stream.response.headers["x-stream-reset"] == "unknown-last-event-id"
            assert await stream.next() == {"retry": "2000"}
            assert "unknown Last-Event-ID" in (await stream.next())["comment"]
            fresh = await record(live.ctx, events[0].instance_id, EventType.READY)
            [received] = await stream.events(1)
        assert received["id"] == fresh.id

    async def test_unknown_types_are_refused(self, live: LiveServer) -> None:
        response = await live.client.get("/api/events", params={"types": "instance.exploded"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"

    async def test_events_from_other_replicas_arrive_by_polling(self, live: LiveServer) -> None:
        instance_id = await add_instance(live.ctx)
        async with sse(live) as stream:
            await stream.next()
            await eventually(lambda: live.clock.pending_sleepers > 0)
            event = await record(live.ctx, instance_id, notify=False)
            live.clock.advance(1)
            [received] = await stream.events(1)
        assert received["id"] == event.id

    async def test_a_client_going_away_ends_the_stream_at_once(self, live: LiveServer) -> None:
        async with sse(live) as stream:
            await stream.next()
            assert live.server.server_state.tasks
        # No heartbeat is due (the clock is manual): only the disconnect can end the task.
        await eventually(lambda: not live.server.server_state.tasks, what="the stream to end")


async def record_three(live: LiveServer) -> list[InstanceEvent]:
    instance_id = await add_instance(live.ctx)
    types = (EventType.CREATED, EventType.STARTING, EventType.RUNNING)
    return [await record(live.ctx, instance_id, event_type) for event_type in types]


class TestEnds:
    async def test_a_disconnect_ends_the_response(
        self, bare_app: FastAPI, clock: ManualClock
    ) -> None:
        async with bare_app.router.lifespan_context(bare_app) as state:
            app = BareApp(bare_app, state)
            call = app.get("/api/events")
            await eventually(lambda: clock.pending_sleepers > 0)  # idle, between reads
            call.hang_up.set()
            await asyncio.wait_for(call.task, 2)

    async def test_app_shutdown_ends_open_streams(
        self, bare_app: FastAPI, clock: ManualClock
    ) -> None:
        async with bare_app.router.lifespan_context(bare_app) as state:
            app = BareApp(bare_app, state)
            call = app.get("/api/events", "instanceId=x")
            await eventually(lambda: clock.pending_sleepers > 0)  # idle, between reads
        await asyncio.wait_for(call.task, 2)
        assert call.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


class TestStreamCap:
    async def test_streams_beyond_the_cap_are_a_503_until_one_closes(
        self, database_url: str, clock: ManualClock, emulator: Starlette
    ) -> None:
        capped = create_app(
            make_settings(database_url, sse_max_streams=2), app_options(clock, emulator)
        )
        async with capped.router.lifespan_context(capped) as state:
            app = BareApp(capped, state)
            first, second = app.get("/api/events"), app.get("/api/events")
            await eventually(lambda: app.ctx.event_streams.in_use == 2)
            refused = app.get("/api/events")
            await asyncio.wait_for(refused.task, 2)
            assert refused.sent[0]["status"] == 503
            assert (b"retry-after", b"5") in refused.sent[0]["headers"]
            error = json.loads(refused.body)["error"]
            assert error["code"] == "SERVICE_UNAVAILABLE"
            assert "SSE_MAX_STREAMS" in error["message"]
            first.hang_up.set()
            await asyncio.wait_for(first.task, 2)
            assert app.ctx.event_streams.in_use == 1
            again = app.get("/api/events")
            await eventually(lambda: app.ctx.event_streams.in_use == 2)
            for call in (second, again):
                call.hang_up.set()
                await asyncio.wait_for(call.task, 2)
            assert app.ctx.event_streams.in_use == 0
