"""Group commit: single-row updates from concurrent tasks are written in a few transactions,
each caller gets its own row back (or its own error), and two changes to one row never share
a transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from novita_gpu.db.models import Instance
from novita_gpu.instances import uow as uow_module
from novita_gpu.instances.uow import GroupedUpdates, UnitOfWork
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The ids written by each batch transaction, in order."""
    seen: list[list[str]] = []
    original = uow_module.update_instances

    async def counted(ctx: Any, changes: dict[str, Any]) -> dict[str, Instance]:
        seen.append(list(changes))
        return await original(ctx, changes)

    monkeypatch.setattr(uow_module, "update_instances", counted)
    return seen


def rename_to(text: str) -> uow_module.Change:
    async def change(_: UnitOfWork, row: Instance) -> None:
        row.last_error = text

    return change


async def test_concurrent_updates_share_transactions(
    api: Api, transactions: list[list[str]]
) -> None:
    ids = [(await create(api, f"g-{n}", healthCheck=NO_PROBE))["instanceId"] for n in range(30)]
    writes = GroupedUpdates(api.ctx, batch=25)
    rows = await asyncio.gather(*(writes.apply(i, rename_to(f"note {i}")) for i in ids))
    assert [row.id if row else None for row in rows] == ids
    assert all(row is not None and row.last_error == f"note {row.id}" for row in rows)
    assert [len(batch) for batch in transactions] == [25, 5]
    stored = await api.client.get(f"/api/instances/{ids[-1]}")
    assert stored.json()["lastError"] == f"note {ids[-1]}"


async def test_two_changes_to_one_row_are_written_one_after_the_other(
    api: Api, transactions: list[list[str]]
) -> None:
    instance_id = (await create(api, "twice", healthCheck=NO_PROBE))["instanceId"]
    writes = GroupedUpdates(api.ctx)
    first, second = await asyncio.gather(
        writes.apply(instance_id, rename_to("first")),
        writes.apply(instance_id, rename_to("second")),
    )
    assert transactions == [[instance_id], [instance_id]]
    assert first is not None
    assert second is not None
    assert second.last_error == "second"


async def test_a_missing_row_gives_none(api: Api) -> None:
    assert await GroupedUpdates(api.ctx).apply("inst_missing", rename_to("x")) is None


async def test_a_failed_batch_fails_each_of_its_callers(api: Api) -> None:
    ids = [(await create(api, f"f-{n}", healthCheck=NO_PROBE))["instanceId"] for n in range(3)]

    async def broken(_: UnitOfWork, row: Instance) -> None:
        raise RuntimeError(f"cannot change {row.id}")

    writes = GroupedUpdates(api.ctx)
    results = await asyncio.gather(*(writes.apply(i, broken) for i in ids), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    again = await writes.apply(ids[0], rename_to("after"))  # the writer is usable afterwards
    assert again is not None
    assert again.last_error == "after"
