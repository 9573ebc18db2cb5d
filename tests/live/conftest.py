"""Fixtures for live-mode tests: the app against an emulator sending a chosen shape set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from novita_gpu.emulator import EmulatorConfig, World, create_emulator_app
from novita_gpu.emulator.shapes import Shapes
from novita_gpu.reconciler.runner import Runner
from novita_gpu.reconciler.schedule import default_jobs
from tests.conftest import Api, app_options
from tests.support.asgi import running_app

Stack = tuple[Api, Runner]
MakeStack = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture
def make_stack(settings: Settings, clock: ManualClock) -> MakeStack:
    """``async with make_stack(shapes="hostile", api_keys=[...], **settings) as (api, runner)``."""

    @asynccontextmanager
    async def build(
        shapes: str = "default", api_keys: list[str] | None = None, **overrides: Any
    ) -> AsyncIterator[Stack]:
        config = EmulatorConfig(shapes=Shapes.named(shapes), api_keys=api_keys)
        emulator: Starlette = create_emulator_app(config, clock=clock)
        world: World = emulator.state.world
        if isinstance(overrides.get("novita_api_key"), str):
            overrides["novita_api_key"] = SecretStr(overrides["novita_api_key"])
        app_settings = settings.model_copy(update=overrides)
        app = create_app(app_settings, app_options(clock, emulator))
        async with running_app(app) as (client, state):
            api = Api(client=client, ctx=state["ctx"], world=world, clock=clock)
            runner = Runner(api.ctx, default_jobs(api.ctx.settings))
            try:
                yield api, runner
            finally:
                await runner.stop()

    return build
