"""An app with its own settings, on the shared clock, emulator and database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import World
from novita_gpu.reconciler.runner import Runner
from novita_gpu.reconciler.schedule import default_jobs
from tests.conftest import Api, app_options
from tests.support.asgi import running_app
from tests.support.settings import make_settings

AppFactory = Callable[..., AbstractAsyncContextManager[tuple[Api, Runner]]]


@pytest.fixture
def app_with(
    database_url: str, clock: ManualClock, emulator: Starlette, world: World
) -> AppFactory:
    """``async with app_with(migration_dry_run=True) as (api, runner)``: one more replica."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[tuple[Api, Runner]]:
        settings = make_settings(database_url, **overrides)
        app = create_app(settings, app_options(clock, emulator))
        async with running_app(app) as (client, state):
            api = Api(client=client, ctx=state["ctx"], world=world, clock=clock)
            runner = Runner(api.ctx, default_jobs(settings))
            api.ctx.runner = runner
            try:
                yield api, runner
            finally:
                await runner.stop()

    return build
