"""On PostgreSQL a commit that records events wakes the readers of every replica at once
(LISTEN/NOTIFY), not at their next poll; simulated time never moves in this test."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.context import AppContext
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from tests.conftest import app_options
from tests.instances.helpers import body
from tests.support.asgi import running_app
from tests.support.databases import using_postgres

pytestmark = pytest.mark.skipif(not using_postgres(), reason="LISTEN/NOTIFY is PostgreSQL's")


async def test_a_write_on_one_replica_wakes_the_other(
    settings: Settings, clock: ManualClock, emulator: Starlette
) -> None:
    async with (
        running_app(create_app(settings, app_options(clock, emulator))) as (writer, _),
        running_app(create_app(settings, app_options(clock, emulator))) as (_, state),
    ):
        other: AppContext = state["ctx"]
        await asyncio.sleep(0.5)  # the listener connects
        seen = other.bus.generation
        waiting = asyncio.ensure_future(other.bus.wait(3600, since=seen))
        created = await writer.post("/api/instances", json=body("woken"))
        assert created.status_code == 201
        assert await asyncio.wait_for(waiting, timeout=10)
