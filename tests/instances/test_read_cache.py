"""The rendered fast path of the hot reads never serves stale state and says what the routes say.

Runs on SQLite (the fast path is on) and on PostgreSQL when TEST_DATABASE_URL is set (the
reads go to the routes); either way a read after a write, on this replica or another one
sharing the database, sees the write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.core.config import Settings
from novita_gpu.db.engine import create_engine
from novita_gpu.instances.fast_reads import plain_limit
from tests.conftest import Api, app_options
from tests.instances.helpers import create
from tests.support.asgi import running_app


@pytest.fixture
async def replica(
    settings: Settings, clock: ManualClock, emulator: Starlette
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database and upstream: another replica."""
    async with running_app(create_app(settings, app_options(clock, emulator))) as (client, _):
        yield client


async def one(client: httpx.AsyncClient, instance_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/api/instances/{instance_id}", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


class TestReadAfterWrite:
    async def test_same_replica_sees_its_own_write(self, api: Api) -> None:
        created = await create(api)
        before = await one(api.client, created["instanceId"])
        await api.client.get("/api/instances")  # fill the page too
        api.clock.advance(5)
        beat = await api.client.put(f"/api/instances/{created['instanceId']}/last-used", json={})
        assert beat.status_code == 200
        after = await one(api.client, created["instanceId"])
        assert after["lastUsedAt"] == beat.json()["lastUsedAt"] != before["lastUsedAt"]
        listed = (await api.client.get("/api/instances")).json()["instances"]
        assert listed[0]["lastUsedAt"] == after["lastUsedAt"]

    async def test_other_replica_sees_the_write(self, api: Api, replica: httpx.AsyncClient) -> None:
        created = await create(api)
        assert (await one(replica, created["instanceId"]))["name"] == "job-1"
        assert (await replica.get("/api/instances")).json()["total"] == 1
        await create(api, "job-2")
        stopped = await api.client.post(f"/api/instances/{created['instanceId']}/stop")
        assert stopped.status_code == 202
        assert (await one(replica, created["instanceId"]))["status"] == stopped.json()["status"]
        assert (await replica.get("/api/instances")).json()["total"] == 2

    async def test_a_write_by_another_process_is_seen(self, api: Api, settings: Settings) -> None:
        created = await create(api)
        await one(api.client, created["instanceId"])
        engine = create_engine(settings.database_url)
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE instances SET name = 'renamed' WHERE id = :id"),
                {"id": created["instanceId"]},
            )
        await engine.dispose()
        assert (await one(api.client, created["instanceId"]))["name"] == "renamed"


class TestSameAnswer:
    async def test_fast_and_routed_reads_agree_as_the_clock_moves(self, api: Api) -> None:
        created = await create(api)
        await api.client.get(f"/api/instances/{created['instanceId']}")
        for _ in range(2):
            api.clock.advance(90)
            fast = await one(api.client, created["instanceId"])
            routed = await one(api.client, created["instanceId"], includeSecrets="false")
            assert fast == routed
            page = (await api.client.get("/api/instances", params={"limit": 5})).json()
            filtered = (await api.client.get("/api/instances", params={"region": "x"})).json()
            assert page["instances"] == [fast]
            assert filtered["instances"] == []

    async def test_unknown_instance_is_still_the_routes_404(self, api: Api) -> None:
        response = await api.client.get("/api/instances/inst_missing")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "INSTANCE_NOT_FOUND"

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            pytest.param(b"", 100, id="default"),
            pytest.param(b"limit=7", 7, id="limit"),
            pytest.param(b"limit=0", None, id="zero"),
            pytest.param(b"limit=501", None, id="too-big"),
            pytest.param(b"limit=5&status=ready", None, id="filtered"),
            pytest.param(b"cursor=abc", None, id="cursor"),
        ],
    )
    def test_only_plain_pages_take_the_fast_path(self, query: bytes, expected: int | None) -> None:
        assert plain_limit(query) == expected
