"""Fixtures: an emulator on a ManualClock, reached in-process through emulator_transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import EmulatorConfig, World, create_emulator_app, emulator_transport

API = "http://emulator.test/gpu-instance/openapi/v1"
ADMIN = "http://emulator.test/_emulator"
AUTH = {"Authorization": "Bearer sk_test"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(random_seed=7)


@pytest.fixture
def app(config: EmulatorConfig, clock: ManualClock) -> Starlette:
    return create_emulator_app(config, clock=clock)


@pytest.fixture
def world(app: Starlette) -> World:
    world: World = app.state.world
    return world


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emulator_transport(app), base_url=API, headers=AUTH, timeout=5
    ) as client:
        yield client


@pytest.fixture
async def admin(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=emulator_transport(app), base_url=ADMIN) as client:
        yield client
