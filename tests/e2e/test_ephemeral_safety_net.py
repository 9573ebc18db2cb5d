"""A client killed outright (SIGKILL: no cleanup at all) leaves its ephemeral instance behind;
the server's safety net, sent with the create, stops and deletes it. Seconds-long thresholds
on the real clock stand in for minutes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_ephemeral_sdk import deleted_only
from tests.support.live import LiveStack, live_stack

pytestmark = pytest.mark.slow

FAST_CHECKS: dict[str, Any] = {
    "auto_stop_check_interval_minutes": 0.01,
    "auto_stop_startup_grace_minutes": 0,
    "auto_stop_creation_grace_minutes": 0,
}
JOB = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from novita_gpu.client import Client

    with Client(sys.argv[1]) as client, client.ephemeral_instance(
        "RTX 4090 24GB", "pytorch-jupyter", name="eph-killed",
        max_runtime=timedelta(seconds=3), auto_delete_after=timedelta(seconds=3),
    ) as gpu:
        print("ready", flush=True)
        gpu.run("sleep 600")
    """
)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path, ssh=True, **FAST_CHECKS) as stack:
        yield stack


async def test_sigkill_leaves_it_to_the_server(live: LiveStack) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", JOB, live.url, stdout=asyncio.subprocess.PIPE, env=dict(os.environ)
    )
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
    process.send_signal(signal.SIGKILL)
    await process.wait()
    assert not await deleted_only(live, "eph-killed")  # nothing cleaned up on the client side
    await live.wait_for(lambda: deleted_only(live, "eph-killed"), timeout=60, what="the safety net")
