"""Concurrent writes to one instance queue instead of failing (PostgreSQL raced before)."""

from __future__ import annotations

import asyncio

import pytest

from novita_gpu.db.models import Instance
from novita_gpu.instances.uow import UnitOfWork, update_instance
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create


async def test_concurrent_heartbeats_all_succeed(api: Api) -> None:
    created = await create(api, healthCheck=NO_PROBE)
    url = f"/api/instances/{created['instanceId']}/last-used"
    for _ in range(3):
        responses = await asyncio.gather(*(api.client.put(url, json={}) for _ in range(10)))
        assert [r.status_code for r in responses] == [200] * 10, responses[0].text


async def test_concurrent_changes_are_all_applied(api: Api) -> None:
    created = await create(api, healthCheck=NO_PROBE)

    async def bump(_: UnitOfWork, row: Instance) -> None:
        await asyncio.sleep(0)  # let the others load the row meanwhile
        row.runtime_seconds += 1

    instance_id = created["instanceId"]
    await asyncio.gather(*(update_instance(api.ctx, instance_id, bump) for _ in range(20)))
    async with api.ctx.db.read() as session:
        row = await session.get(Instance, instance_id)
    assert row is not None
    assert row.runtime_seconds == 20


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/instances/abc%00def", id="instance-id"),
        pytest.param("/api/instances?name=a%00b", id="name-filter"),
        pytest.param("/api/instances?region=%00", id="region-filter"),
        pytest.param("/api/instances?status=%00", id="status-filter"),
        pytest.param("/api/instances/abc%00def/events", id="events"),
        pytest.param("/api/webhooks/deliveries/wh%00x", id="delivery-id"),
        pytest.param("/api/webhooks/deliveries?instanceId=%00", id="delivery-filter"),
        pytest.param("/api/events?lastEventId=%00", id="last-event-id"),
    ],
)
async def test_a_nul_byte_is_a_400(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_nul_in_a_header_or_body_is_a_400(api: Api) -> None:
    stream = await api.client.get("/api/events", headers={"Last-Event-ID": "a\x00"})
    assert stream.status_code == 400
    created = await api.client.post(
        "/api/instances",
        json={"name": "n", "productName": "RTX\x004090", "templateId": "pytorch-jupyter"},
    )
    assert created.status_code == 400
    assert created.json()["error"]["details"] == [
        {"field": "body", "message": "must not contain a NUL character"}
    ]
