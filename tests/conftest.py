"""Shared fixtures: a real database per test, a manual clock, the emulator as the upstream,
and the app running in-process against both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from novita_gpu.app import AppOptions, create_app
from novita_gpu.context import AppContext
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from novita_gpu.emulator import EmulatorConfig, World, create_emulator_app, emulator_transport
from novita_gpu.observability.logging import configure_logging
from novita_gpu.reconciler.runner import Runner
from novita_gpu.reconciler.schedule import default_jobs
from novita_gpu.upstream import UpstreamPolicy
from tests.support.asgi import running_app
from tests.support.databases import (
    postgres_worker_url,
    sqlite_copy,
    sqlite_template,
    truncate_all,
    using_postgres,
)
from tests.support.settings import make_settings

configure_logging("warning")

TEST_POLICY = UpstreamPolicy(
    timeout_seconds=5.0,
    max_attempts=3,
    retry_sleep=False,
    rate_per_second=10_000,
    burst=10_000,
    breaker_failure_threshold=5,
    breaker_reset_seconds=30,
)


@pytest.fixture(scope="session")
def database_source(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str | Path:
    if using_postgres():
        return postgres_worker_url(worker_id)
    return sqlite_template(tmp_path_factory.mktemp("db-template"))


@pytest.fixture
async def database_url(database_source: str | Path, tmp_path: Path) -> str:
    if isinstance(database_source, str):
        await truncate_all(database_source)
        return database_source
    return sqlite_copy(database_source, tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Starlette:
    return create_emulator_app(EmulatorConfig.preset("fast"), clock=clock)


@pytest.fixture
def world(emulator: Starlette) -> World:
    found: World = emulator.state.world
    return found


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@dataclass
class Api:
    """The app under test: an HTTP client for it, its context, and the emulator's world."""

    client: httpx.AsyncClient
    ctx: AppContext
    world: World
    clock: ManualClock


def app_options(clock: ManualClock, emulator: Starlette, **overrides: Any) -> AppOptions:
    return AppOptions(
        clock=clock,
        upstream_transport=emulator_transport(emulator),
        upstream_policy=TEST_POLICY,
        migrate=False,
        background=False,
        **overrides,
    )


@pytest.fixture
async def api(
    settings: Settings, clock: ManualClock, emulator: Starlette, world: World
) -> AsyncIterator[Api]:
    app = create_app(settings, app_options(clock, emulator))
    async with running_app(app) as (client, state):
        yield Api(client=client, ctx=state["ctx"], world=world, clock=clock)


@pytest.fixture
async def runner(api: Api) -> AsyncIterator[Runner]:
    """The reconciler's jobs, run on demand with ``await runner.run_once(name)``."""
    jobs = Runner(api.ctx, default_jobs(api.ctx.settings))
    yield jobs
    await jobs.stop()


_DATABASE_FIXTURES = frozenset({"database_url", "database_source", "settings", "api"})
_POSTGRES_AWARE = ("POSTGRES_URL", "using_postgres", "replicas")


def _uses_database_under_test(item: pytest.Item) -> bool:
    """True when ``item`` reaches the database the run is about: a database fixture, a
    PostgreSQL marker, or a module that reads ``TEST_DATABASE_URL`` itself."""
    if _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if item.get_closest_marker("postgres") is not None:
        return True
    module = getattr(item, "module", None)
    return any(name in vars(module) for name in _POSTGRES_AWARE) if module else False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, skip the end-to-end tests whose stack always runs on its own
    SQLite file: they already ran, identically, on the SQLite pass (keeps CI within budget)."""
    if not using_postgres():
        return
    skip = pytest.mark.skip(reason="runs on its own SQLite stack: covered by the SQLite pass")
    for item in items:
        if item.get_closest_marker("slow") is not None and not _uses_database_under_test(item):
            item.add_marker(skip)
