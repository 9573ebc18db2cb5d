"""``docs/python-client.md`` runs as written: its Python blocks are executed unmodified, in
order, in one namespace, against a live server (uvicorn and the emulator on loopback ports,
real HTTP, the reconciler on the real clock). Then the example client class is driven through
create, get, list, start, stop and an error, to pin the documented fields it relies on."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-client.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert blocks, f"no python blocks in {DOC}"
    return blocks


def run_blocks(blocks: list[str]) -> tuple[dict[str, Any], str]:
    """Execute ``blocks`` in one namespace; return it and everything they printed."""
    namespace: dict[str, Any] = {"__name__": "docs_python_client"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for index, block in enumerate(blocks):
            code = compile(block, f"{DOC.name}[block {index}]", "exec")
            exec(code, namespace)  # noqa: S102 - the documentation's own examples
    return namespace, printed.getvalue()


@pytest.fixture
async def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path) as stack:
        monkeypatch.setenv("NOVITA_GPU_URL", stack.url)
        monkeypatch.delenv("NOVITA_GPU_TOKEN", raising=False)
        yield stack


async def test_every_example_runs_as_written(live: LiveStack) -> None:
    _, printed = await asyncio.to_thread(run_blocks, python_blocks())
    assert "NAME_TAKEN - An instance named 'readme-demo'" in printed
    assert "INSTANCE_NOT_FOUND No instance 'inst_does_not_exist'" in printed
    assert "instance.ready" in printed
    listed = (await live.client.get("/api/instances")).json()
    names = {item["name"] for item in listed["instances"]}
    assert names == {"readme-demo", "sdk-demo", "sdk-second", "async-demo", "watched"}


def drive_example_class(namespace: dict[str, Any]) -> dict[str, Any]:
    """Create, get, list, stop, start and fail through the documented class."""
    client = namespace["GPUInstanceClient"]()
    try:
        return exercise(client, namespace["GPUInstanceError"])
    finally:
        client.close()


def exercise(client: Any, error_class: type[Exception]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    instance_id = client.create("class-demo", "RTX 4090 24GB", "pytorch-jupyter", gpuNum=1)
    seen["created"] = client.get(instance_id)
    seen["ready"] = client.wait_for(instance_id, "ready", timeout=30)
    seen["listed"] = client.list()
    seen["ready_list"] = client.list(status="ready")
    seen["stop"] = client.stop(instance_id)
    seen["stopped"] = client.wait_for(instance_id, "stopped", timeout=30)
    seen["start"] = client.start(instance_id)
    seen["restarted"] = client.wait_for(instance_id, "ready", timeout=30)
    with pytest.raises(error_class) as caught:
        client.get("inst_missing")
    seen["error"] = caught.value
    seen["deleted"] = client.delete(instance_id)
    return seen


async def test_the_example_class_uses_the_documented_fields(live: LiveStack) -> None:
    blocks = python_blocks()
    namespace, _ = await asyncio.to_thread(run_blocks, blocks[:1])
    seen = await asyncio.to_thread(drive_example_class, namespace)
    instance_id = seen["created"]["id"]
    assert instance_id.startswith("inst_")
    assert seen["created"]["status"] in {"creating", "running", "health_checking", "ready"}
    assert seen["ready"]["connectionDetails"]["ssh"].startswith("ssh ")
    assert seen["ready"]["connectionDetails"]["jupyter"]
    assert seen["listed"]["total"] == 1
    assert [item["id"] for item in seen["ready_list"]["instances"]] == [instance_id]
    assert seen["stop"]["status"] in {"stopping", "stopped"}
    assert seen["stopped"]["status"] == "stopped"
    assert seen["start"]["status"] == "starting"
    assert seen["restarted"]["status"] == "ready"
    error = seen["error"]
    assert (error.status, error.code) == (404, "INSTANCE_NOT_FOUND")
    assert error.message == "No instance 'inst_missing'"
    assert seen["deleted"]["status"] == "deleting"
