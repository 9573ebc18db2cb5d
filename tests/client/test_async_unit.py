"""The async client's own I/O paths (retry sleeps, long-poll loop, event stream, closing),
against a recording MockTransport."""

from __future__ import annotations

import httpx
import pytest

from novita_gpu.client import AsyncClient, NetworkError, Retries, WaitTimeout
from tests.client.conftest import BASE_URL, Recorder, error_json, instance_json
from tests.client.test_sse import frame, stream
from tests.client.test_wait import waited


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(recorder: Recorder, sleeps: Sleeps) -> AsyncClient:
    return AsyncClient(
        BASE_URL,
        transport=httpx.MockTransport(recorder),
        retries=Retries(jitter=0),
        sleep=sleeps,
    )


async def test_retries_sleep_through_the_injected_sleep(recorder: Recorder) -> None:
    sleeps = Sleeps()
    recorder.reply(
        httpx.Response(503, json=error_json("UPSTREAM_UNAVAILABLE"), headers={"Retry-After": "3"}),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=instance_json()),
    )
    async with make(recorder, sleeps) as sdk:
        assert (await sdk.get_instance("inst_1")).id == "inst_1"
    assert sleeps == [3.0, 1.0]


async def test_network_errors_surface_after_retries(recorder: Recorder) -> None:
    recorder.reply(httpx.ConnectError("refused"))
    async with make(recorder, Sleeps()) as sdk:
        with pytest.raises(NetworkError):
            await sdk.list_instances()
    assert len(recorder.requests) == 3


async def test_wait_loops_then_times_out(recorder: Recorder) -> None:
    recorder.reply(waited("creating", "timeout"), waited("ready", "reached"))
    async with make(recorder, Sleeps()) as sdk:
        assert (await sdk.wait_for_ready("inst_1", timeout=60)).is_ready
        recorder.reply(waited("creating", "timeout"))
        with pytest.raises(WaitTimeout):
            await sdk.wait_for_ready("inst_1", timeout=0)


async def test_stream_resumes_after_the_connection_ends(recorder: Recorder) -> None:
    sleeps = Sleeps()
    recorder.reply(stream(frame("evt_1")), stream(frame("evt_2")))
    async with make(recorder, sleeps) as sdk:
        seen = []
        async for event in sdk.stream_events():
            seen.append(event.id)
            if len(seen) == 2:
                break
    assert seen == ["evt_1", "evt_2"]
    assert "Last-Event-ID" not in recorder.requests[0].headers
    assert recorder.requests[1].headers["Last-Event-ID"] == "evt_1"


async def test_create_and_actions_share_the_sync_shapes(recorder: Recorder) -> None:
    action = {"instanceId": "inst_1", "status": "stopping", "instance": instance_json()}
    recorder.reply(httpx.Response(202, json=action))
    async with make(recorder, Sleeps()) as sdk:
        await sdk.stop_instance_by_name("job-1")
        await sdk.delete_instance("inst_1")
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("POST", "/api/instances/stop"),
        ("DELETE", "/api/instances/inst_1"),
    ]


async def test_an_injected_client_stays_open(recorder: Recorder) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    async with AsyncClient(BASE_URL, http_client=http) as sdk:
        await sdk.get_instance("inst_1")
    assert not http.is_closed
    await http.aclose()
    owned = make(recorder, Sleeps())
    await owned.aclose()
    assert owned._http.is_closed
