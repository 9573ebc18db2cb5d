"""Long-polls re-read their instance when a commit touched it, not on every commit: with many
waiters and a burst of commits about other instances, they stay asleep. They still re-read
at least every ``POLL_SECONDS`` (another process's commits are not announced here)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from novita_gpu.db.engine import Database
from novita_gpu.instances.repository import view_by_reference_query
from novita_gpu.instances.states import Status
from novita_gpu.instances.views import InstanceRecord
from novita_gpu.instances.waiting import POLL_SECONDS, wait_for_status
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle
from tests.support.polling import eventually


async def _waiter(
    api: Api, monkeypatch: pytest.MonkeyPatch, target: Status
) -> tuple[str, asyncio.Task[Any], list[object]]:
    """A long-poll on a new instance, and the list its reads are counted in."""
    instance_id = (await create(api, "waited", healthCheck=NO_PROBE))["instanceId"]
    rows = await api.ctx.db.fetch(view_by_reference_query(instance_id))
    record: InstanceRecord = rows[0]
    reads: list[object] = []
    fetch = Database.fetch

    async def counted(database: Database, query: Any) -> Any:
        reads.append(query)
        return await fetch(database, query)

    monkeypatch.setattr(Database, "fetch", counted)
    sleepers = api.clock.pending_sleepers
    waiter = asyncio.create_task(wait_for_status(api.ctx, record, target, 600))
    await eventually(lambda: api.clock.pending_sleepers > sleepers)
    return instance_id, waiter, reads


async def test_commits_about_other_instances_cause_no_reads(
    api: Api, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id, waiter, reads = await _waiter(api, monkeypatch, Status.READY)
    for _ in range(20):
        api.ctx.bus.notify(["inst_someone_else"])
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert reads == []
    api.ctx.bus.notify([instance_id])
    await eventually(lambda: len(reads) == 1)
    await settle(api, runner)
    instance, outcome = await asyncio.wait_for(waiter, 20)
    assert (instance.status, outcome) == ("ready", "reached")


async def test_a_commit_that_does_not_say_which_instances_wakes_every_waiter(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, waiter, reads = await _waiter(api, monkeypatch, Status.READY)
    api.ctx.bus.notify()  # e.g. another replica's commit
    await eventually(lambda: len(reads) == 1)
    waiter.cancel()


async def test_waiters_still_poll_while_other_instances_keep_changing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, waiter, reads = await _waiter(api, monkeypatch, Status.READY)
    api.ctx.bus.notify(["inst_someone_else"])
    await asyncio.sleep(0.05)
    api.clock.advance(POLL_SECONDS)
    await eventually(lambda: len(reads) == 1)
    waiter.cancel()
