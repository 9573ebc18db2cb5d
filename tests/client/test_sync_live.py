"""The sync client against a live server: uvicorn on a loopback port, the emulator on another,
the reconciler on the real clock. The client runs in a worker thread (it blocks) while the
servers run in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from novita_gpu.client import Client, ConflictError, Instance, NotFoundError
from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path) as stack:
        yield stack


def lifecycle(url: str) -> tuple[Instance, int, list[str]]:
    with Client(url) as gpu:
        created = gpu.create_instance("live-1", "RTX 4090 24GB", "pytorch-jupyter")
        ready = gpu.wait_for_ready(created.instance_id, timeout=30, poll=5)
        jupyter = ready.connection_details.endpoints["8888"]
        assert jupyter is not None
        jupyter_status = httpx.get(jupyter).status_code
        with pytest.raises(ConflictError):
            gpu.create_instance("live-1", "RTX 4090 24GB", "pytorch-jupyter")
        gpu.stop_instance_by_name("live-1")
        gpu.wait_for_status(created.instance_id, "stopped", timeout=30)
        gpu.start_instance(created.instance_id)
        gpu.wait_for_ready(created.instance_id, timeout=30)
        gpu.heartbeat_by_name("live-1")
        gpu.delete_instance(created.instance_id)
        gpu.wait_for_status(created.instance_id, "deleted", timeout=30)
        with pytest.raises(NotFoundError):
            gpu.get_instance_by_name("live-1")
        types = [event.type for event in gpu.instance_events(created.instance_id)]
        return ready, jupyter_status, types


async def test_full_lifecycle_over_real_http(live: LiveStack) -> None:
    ready, jupyter_status, types = await asyncio.to_thread(lifecycle, live.url)
    assert ready.health_check.status == "healthy"
    assert jupyter_status == 200
    assert types[0] == "instance.created"
    assert types.count("instance.ready") == 2
    assert types[-1] == "instance.deleted"


def listing(url: str) -> tuple[list[str], int]:
    with Client(url) as gpu:
        for index in range(3):
            gpu.create_instance(f"page-{index}", "RTX 4090 24GB", "pytorch-jupyter")
        names = [instance.name for instance in gpu.iter_instances(name="page-*", page_size=2)]
        return names, gpu.list_instances(limit=1).total


async def test_iterates_every_page(live: LiveStack) -> None:
    names, total = await asyncio.to_thread(listing, live.url)
    assert names == ["page-2", "page-1", "page-0"]
    assert total == 3


def replay(url: str) -> list[tuple[str, str]]:
    with Client(url) as gpu:
        created = gpu.create_instance("streamed", "RTX 4090 24GB", "pytorch-jupyter")
        gpu.wait_for_ready(created.instance_id, timeout=30)
        first = gpu.instance_events(created.instance_id)[0]
        stream = gpu.stream_events(first.id, instance_id=created.instance_id)
        events = [next(stream) for _ in range(3)]
        stream.close()
        return [(event.type, event.instance.status if event.instance else "") for event in events]


async def test_stream_resumes_after_a_known_event(live: LiveStack) -> None:
    assert await asyncio.to_thread(replay, live.url) == [
        ("instance.running", "running"),
        ("instance.health_checking", "health_checking"),
        ("instance.ready", "ready"),
    ]
