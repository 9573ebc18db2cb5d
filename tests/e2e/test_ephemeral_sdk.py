"""``ephemeral_instance`` end to end: the service and the emulator (with its SSH server) on
loopback ports; commands, uploads and downloads over real SSH; the instance always deleted."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from novita_gpu.client import AsyncClient, Client, CommandTimeout, RemoteError
from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow

PRODUCT, TEMPLATE = "RTX 4090 24GB", "pytorch-jupyter"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path, ssh=True) as stack:
        yield stack


@pytest.fixture
async def sdk(live: LiveStack) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(live.url) as client:
        yield client


async def deleted_only(live: LiveStack, name: str) -> bool:
    """True when ``name`` has a tombstone here, no live instance, and nothing alive upstream."""

    async def names(**params: str) -> list[str]:
        response = await live.client.get("/api/instances", params={"name": name, **params})
        return [item["name"] for item in response.json()["instances"]]

    upstream = [i for i in live.world.instances(name=name) if i.status.value != "removed"]
    return not await names() and await names(status="deleted") == [name] and not upstream


def make_tree(root: Path) -> Path:
    (root / "code" / "pkg").mkdir(parents=True)
    (root / "code" / "hello.txt").write_text("hello gpu\n")
    (root / "code" / "pkg" / "data.bin").write_bytes(bytes(range(256)))
    return root / "code"


async def test_run_put_get_and_delete(live: LiveStack, sdk: AsyncClient, tmp_path: Path) -> None:
    phases: list[str] = []
    out, err = io.StringIO(), io.StringIO()
    async with sdk.ephemeral_instance(
        PRODUCT, TEMPLATE, name="eph-sdk", max_runtime=30, on_phase=phases.append
    ) as box:
        assert box.instance.status == "ready"
        await box.put(make_tree(tmp_path), "code")
        await box.put(make_tree(tmp_path / "again"), "code")  # into an existing directory
        script = "mkdir -p out/deep && cp code/pkg/data.bin out/deep/ && echo $GREETING; echo e>&2"
        status = await box.run(script, env={"GREETING": "hi there"}, stdout=out, stderr=err)
        failing = await box.run("exit 7", stdout=out, stderr=err)
        await box.get("out", tmp_path / "result")
        await box.get("code/hello.txt", tmp_path / "single" / "hello.txt")
    assert (status, failing) == (0, 7)
    assert (out.getvalue(), err.getvalue()) == ("hi there\n", "e\n")
    assert (tmp_path / "result" / "deep" / "data.bin").read_bytes() == bytes(range(256))
    assert (tmp_path / "single" / "hello.txt").read_text() == "hello gpu\n"
    assert phases == ["creating", "waiting", "connecting", "ready", "deleting", "deleted"]
    assert await deleted_only(live, "eph-sdk")


async def test_the_safety_net_is_sent(live: LiveStack, sdk: AsyncClient) -> None:
    async with sdk.ephemeral_instance(PRODUCT, TEMPLATE, name="eph-net", max_runtime=90) as box:
        stored = (await live.client.get(f"/api/instances/{box.id}")).json()
    assert stored["maxRuntimeMinutes"] == 90
    assert stored["autoDelete"]["afterStoppedMinutes"] == 1


async def test_an_exception_in_the_block_still_deletes(live: LiveStack, sdk: AsyncClient) -> None:
    with pytest.raises(RemoteError, match="no such file"):
        async with sdk.ephemeral_instance(PRODUCT, TEMPLATE, name="eph-raise") as box:
            await box.get("missing", "nowhere")
    assert await deleted_only(live, "eph-raise")


async def test_cancelling_a_running_command_deletes(live: LiveStack, sdk: AsyncClient) -> None:
    started = asyncio.Event()

    async def job() -> None:
        async with sdk.ephemeral_instance(PRODUCT, TEMPLATE, name="eph-cancel") as box:
            started.set()
            await box.run("sleep 60", stdout=io.StringIO())

    task = asyncio.create_task(job())
    await asyncio.wait_for(started.wait(), 30)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await deleted_only(live, "eph-cancel")


async def test_cancelling_while_waiting_deletes(live: LiveStack, sdk: AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    task: asyncio.Task[Any] | None = None

    def on_phase(phase: str) -> None:
        if phase == "waiting" and task is not None:
            loop.call_soon(task.cancel)

    async def job() -> None:
        async with sdk.ephemeral_instance(PRODUCT, TEMPLATE, name="eph-wait", on_phase=on_phase):
            raise AssertionError("the block must not run")

    task = asyncio.create_task(job())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await deleted_only(live, "eph-wait")


async def test_a_command_timeout_raises(live: LiveStack, sdk: AsyncClient) -> None:
    async with sdk.ephemeral_instance(PRODUCT, TEMPLATE, name="eph-timeout") as box:
        with pytest.raises(CommandTimeout):
            await box.run("sleep 30", timeout=0.5)
        assert await box.run("true") == 0  # the connection is still usable


async def test_the_sync_client_wraps_the_same_flow(live: LiveStack, tmp_path: Path) -> None:
    source = make_tree(tmp_path)

    def job() -> int:
        with (
            Client(live.url) as client,
            client.ephemeral_instance(PRODUCT, TEMPLATE, name="eph-sync") as box,
        ):
            box.put(source, "code")
            status = box.run("cat code/hello.txt > copy.txt; exit 4", stdout=io.StringIO())
            box.get("copy.txt", tmp_path / "copy.txt")
            return status

    assert await asyncio.to_thread(job) == 4
    assert (tmp_path / "copy.txt").read_text() == "hello gpu\n"
    assert await deleted_only(live, "eph-sync")
