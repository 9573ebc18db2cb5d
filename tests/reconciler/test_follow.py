"""Following fresh transitions: prompt, bounded, and never stepping back. One GET each when
few are followed; a listing for a burst (the whole account when it is small, the arrivals in
the awaited status when it is large).

The listing is made to fail in the one-GET tests, so only the follower can see a change."""

from __future__ import annotations

from typing import Any

import pytest

from novita_gpu.instances.uow import update_instance
from novita_gpu.reconciler.jobs import follow
from novita_gpu.reconciler.jobs.follow import FOLLOW_LIMIT, FOLLOW_WINDOW
from novita_gpu.reconciler.jobs.status_sync import listing_pass, snapshot_folder
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle, status_of

DETAIL = "GET /gpu/instance"
LISTING = "GET /gpu/instances"


async def ready_instance(
    api: Api, runner: Runner, name: str, *, listing: bool = False
) -> dict[str, str]:
    created = await create(api, name, healthCheck=NO_PROBE)
    await settle(api, runner)
    assert await status_of(api, created["instanceId"]) == "ready"
    if not listing:
        api.world.add_fault("error", "/gpu/instances", status=503)  # no listing from here on
    return created


async def list_now(api: Api) -> None:
    """A listing pass, as the status sync or a burst of transitions runs it."""
    api.clock.advance(20)
    await listing_pass(api.ctx, api.ctx.clock.now())


async def act(api: Api, instance_id: str, action: str) -> None:
    if action == "delete":
        response = await api.client.delete(f"/api/instances/{instance_id}")
    else:
        response = await api.client.post(f"/api/instances/{instance_id}/{action}")
    assert response.status_code in {200, 202}, response.text


def details_read(api: Api) -> int:
    return api.world.request_counts().get(DETAIL, 0)


async def test_a_stop_is_seen_at_the_next_tick(api: Api, runner: Runner) -> None:
    created = await ready_instance(api, runner, "follow-stop")
    await act(api, created["instanceId"], "stop")
    api.clock.advance(20)  # the stop completes upstream
    await runner.run_once("follow_transitions")
    assert await status_of(api, created["instanceId"]) == "stopped"


async def test_a_delete_is_done_once_upstream_forgot_the_instance(api: Api, runner: Runner) -> None:
    created = await ready_instance(api, runner, "follow-delete")
    await act(api, created["instanceId"], "delete")
    api.world.vanish(created["novitaInstanceId"])
    await runner.run_once("follow_transitions")
    assert await status_of(api, created["instanceId"]) == "deleted"


async def test_an_old_transition_is_left_to_the_listing(api: Api, runner: Runner) -> None:
    created = await ready_instance(api, runner, "follow-old")
    await act(api, created["instanceId"], "stop")
    api.clock.advance(FOLLOW_WINDOW.total_seconds() + 1)
    before = details_read(api)
    await runner.run_once("follow_transitions")
    assert details_read(api) == before
    assert await status_of(api, created["instanceId"]) == "stopping"


async def test_a_404_while_starting_concludes_nothing(api: Api, runner: Runner) -> None:
    created = await ready_instance(api, runner, "follow-404")
    await act(api, created["instanceId"], "stop")
    api.clock.advance(20)
    await runner.run_once("follow_transitions")
    await act(api, created["instanceId"], "start")
    api.world.vanish(created["novitaInstanceId"])
    await runner.run_once("follow_transitions")
    assert await status_of(api, created["instanceId"]) == "starting"


async def test_a_snapshot_older_than_a_change_does_not_step_it_back(
    api: Api, runner: Runner
) -> None:
    created = await ready_instance(api, runner, "follow-stale")
    observed_at = api.ctx.clock.now()
    running = await api.ctx.upstream.get_instance(created["novitaInstanceId"])
    api.clock.advance(1)
    await act(api, created["instanceId"], "stop")
    api.clock.advance(20)
    await runner.run_once("follow_transitions")
    assert await status_of(api, created["instanceId"]) == "stopped"
    stale = snapshot_folder(api.ctx, running, observed_at=observed_at)
    await update_instance(api.ctx, created["instanceId"], stale)
    assert await status_of(api, created["instanceId"]) == "stopped"
    fresh = snapshot_folder(api.ctx, running, observed_at=api.ctx.clock.now())
    await update_instance(api.ctx, created["instanceId"], fresh)
    assert await status_of(api, created["instanceId"]) == "running"  # the guard, not the fold


async def ready_instances(api: Api, runner: Runner, prefix: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        ids.append((await create(api, f"{prefix}-{index}", healthCheck=NO_PROBE))["instanceId"])
    await settle(api, runner)
    return ids


async def stop_then_follow(
    api: Api, runner: Runner, ids: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Stop ``ids``, let the stops complete upstream, run one follow tick; the upstream
    request counts before and after the tick."""
    for instance_id in ids:
        await act(api, instance_id, "stop")
    api.clock.advance(20)
    before = api.world.request_counts()
    await runner.run_once("follow_transitions")
    return before, api.world.request_counts()


async def test_a_burst_is_read_with_one_listing(api: Api, runner: Runner) -> None:
    ids = await ready_instances(api, runner, "follow-burst", FOLLOW_LIMIT + 1)
    before, after = await stop_then_follow(api, runner, ids)
    assert after.get(DETAIL, 0) == before.get(DETAIL, 0)
    assert after.get(LISTING, 0) == before.get(LISTING, 0) + 1
    assert {await status_of(api, instance_id) for instance_id in ids} == {"stopped"}


async def test_a_burst_in_a_large_account_is_read_from_the_arrivals(
    api: Api, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "PAGE_SIZE", 4)  # "large": more than 8 pages of 4 instances
    ids = await ready_instances(api, runner, "follow-large", FOLLOW_LIMIT * 4 + 1)
    stopped, untouched = ids[: FOLLOW_LIMIT + 1], ids[FOLLOW_LIMIT + 1 :]
    before, after = await stop_then_follow(api, runner, stopped)
    assert after.get(DETAIL, 0) == before.get(DETAIL, 0)
    assert after.get(LISTING, 0) == before.get(LISTING, 0) + 3  # 9 exited, pages of 4
    assert {await status_of(api, instance_id) for instance_id in stopped} == {"stopped"}
    assert {await status_of(api, instance_id) for instance_id in untouched} == {"ready"}


class TestQuickerReaders:
    """A reader folds the outcome of an action before the action records its own answer:
    the record must not step the instance back (stopped -> stopping, ready -> starting)."""

    async def test_a_stop_seen_done_before_its_record(
        self, api: Api, runner: Runner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        created = await ready_instance(api, runner, "quick-stop", listing=True)
        real_stop = api.ctx.upstream.stop_instance

        async def stop_then_follow(novita_id: str) -> Any:
            result = await real_stop(novita_id)
            await list_now(api)
            return result

        monkeypatch.setattr(api.ctx.upstream, "stop_instance", stop_then_follow)
        await act(api, created["instanceId"], "stop")
        assert await status_of(api, created["instanceId"]) == "stopped"
        assert (await event_types(api, created["instanceId"]))[-1] == "instance.stopped"

    async def test_a_start_seen_running_before_its_record(
        self, api: Api, runner: Runner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        created = await ready_instance(api, runner, "quick-start", listing=True)
        await act(api, created["instanceId"], "stop")
        await list_now(api)
        real_start = api.ctx.upstream.start_instance

        async def start_then_follow(novita_id: str) -> Any:
            result = await real_start(novita_id)
            await list_now(api)
            return result

        monkeypatch.setattr(api.ctx.upstream, "start_instance", start_then_follow)
        await act(api, created["instanceId"], "start")
        assert await status_of(api, created["instanceId"]) in {"running", "ready"}
        assert "instance.starting" not in (await event_types(api, created["instanceId"]))[-2:]


async def event_types(api: Api, instance_id: str) -> list[str]:
    events = (await api.client.get(f"/api/instances/{instance_id}/events")).json()["events"]
    return [event["type"] for event in events]
