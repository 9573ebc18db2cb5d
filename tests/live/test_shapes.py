"""The service against every emulator shape set: the lifecycle works, unreadable items are
skipped without losing track of anything, and a large account is listed completely."""

from __future__ import annotations

import pytest

from novita_gpu.upstream import CreateInstanceRequest
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, create, settle, status_of
from tests.live.conftest import MakeStack

SHAPE_SETS = ["default", "docs", "sdk", "hostile"]
BROKEN_ITEM = {"id": "feedfacefeedface", "cpuNum": {"not": "a count"}, "portMappings": "?"}


async def wait_for(api: Api, runner: object, instance_id: str, status: str) -> None:
    await settle(api, runner)  # type: ignore[arg-type]
    assert await status_of(api, instance_id) == status


async def upstream_only(api: Api, count: int) -> None:
    """``count`` instances created on the emulator directly (not managed by the service)."""
    api.world.set_capacity("4090.16c46g", "cn-hongkong-1", count + 10)
    for n in range(count):
        await api.ctx.upstream.create_instance(
            CreateInstanceRequest(
                name=f"other-{n}",
                product_id="4090.16c46g",
                image_url="img",
                cluster_id="cn-hongkong-1",
            )
        )


@pytest.mark.parametrize("shapes", SHAPE_SETS)
async def test_lifecycle_works_in_every_shape_set(make_stack: MakeStack, shapes: str) -> None:
    async with make_stack(shapes=shapes) as (api, runner):
        created = await create(api, "shape-test", healthCheck=NO_PROBE)
        instance_id = created["instanceId"]
        await wait_for(api, runner, instance_id, "ready")
        detail = (await api.client.get(f"/api/instances/{instance_id}")).json()
        assert detail["connectionDetails"]["ssh"].startswith("ssh ")
        listed = (await api.client.get("/api/instances")).json()
        assert [item["id"] for item in listed["instances"]] == [instance_id]
        assert (await api.client.post(f"/api/instances/{instance_id}/stop")).status_code == 202
        await wait_for(api, runner, instance_id, "stopped")
        assert (await api.client.post(f"/api/instances/{instance_id}/start")).status_code == 202
        await wait_for(api, runner, instance_id, "ready")
        assert (await api.client.delete(f"/api/instances/{instance_id}")).status_code == 202
        await wait_for(api, runner, instance_id, "deleted")


async def test_default_spot_create_works_when_prices_come_only_when_asked(
    make_stack: MakeStack,
) -> None:
    async with make_stack(shapes="hostile") as (api, _):
        created = await create(api, "spot-by-default", healthCheck=NO_PROBE)
        assert created["instance"]["billingMode"] == "spot"
        assert created["price"] == pytest.approx(0.16)  # the spot price, known only when asked
        products = api.world.request_counts().get("GET /products", 0)
        assert products == 2  # billingMethod=onDemand and billingMethod=spot


class TestUnreadableItems:
    async def test_a_broken_item_with_an_id_is_skipped_and_sync_goes_on(
        self, make_stack: MakeStack
    ) -> None:
        async with make_stack() as (api, runner):
            api.world.add_junk_list_item(BROKEN_ITEM)
            kept = await create(api, "kept", healthCheck=NO_PROBE)
            lost = await create(api, "lost", healthCheck=NO_PROBE)
            await wait_for(api, runner, kept["instanceId"], "ready")
            api.world.vanish(lost["novitaInstanceId"])
            await settle(api, runner)
            assert await status_of(api, lost["instanceId"]) == "terminated"
            assert await status_of(api, kept["instanceId"]) == "ready"
            health = (await api.client.get("/health")).json()["upstream"]
            assert health["skippedItems"] == 1
            assert health["lastSync"]["complete"] is True
            metrics = (await api.client.get("/metrics")).text
            assert 'novita_upstream_items_skipped_total{endpoint="GET /gpu/instances"} 1.0' in (
                metrics
            )

    async def test_an_item_without_id_stops_missing_instances_being_concluded(
        self, make_stack: MakeStack
    ) -> None:
        async with make_stack() as (api, runner):
            api.world.add_junk_list_item({"name": "no id at all"})
            lost = await create(api, "lost", healthCheck=NO_PROBE)
            await wait_for(api, runner, lost["instanceId"], "ready")
            api.world.vanish(lost["novitaInstanceId"])
            await settle(api, runner)
            # Partial data: the instance might be the unreadable item, so nothing is concluded.
            assert await status_of(api, lost["instanceId"]) == "ready"
            sync = (await api.client.get("/health")).json()["upstream"]["lastSync"]
            assert sync["absenceMeaningful"] is False


async def test_a_45_instance_account_with_short_zero_based_pages_is_listed_whole(
    make_stack: MakeStack,
) -> None:
    async with make_stack(shapes="hostile") as (api, runner):
        ours = await create(api, "ours", healthCheck=NO_PROBE)
        await upstream_only(api, 44)
        api.world.reset_request_counts()
        await wait_for(api, runner, ours["instanceId"], "ready")
        sync = api.ctx.upstream.health.last_sync
        assert sync is not None
        assert (sync.complete, sync.seen, sync.total) == (True, 45, 45)
        assert sync.pages == 7  # 45 instances, at most 7 a page, pages 0..6
        assert api.world.request_counts()["GET /gpu/instances"] == 7  # one pass, 7 pages


class TestTemplateFidelity:
    async def test_template_tools_reach_the_create(self, make_stack: MakeStack) -> None:
        async with make_stack() as (api, _):
            created = await create(api, "with-jupyter", healthCheck=NO_PROBE)
            upstream = api.world.instance(created["novitaInstanceId"])
            assert [(t.name, t.port, t.type) for t in upstream.tools] == [("Jupyter", 8888, "http")]

    async def test_a_private_template_sends_its_registry_auth(self, make_stack: MakeStack) -> None:
        async with make_stack() as (api, _):
            created = await create(api, "private", templateId="108001", healthCheck=NO_PROBE)
            upstream = api.world.instance(created["novitaInstanceId"])
            assert upstream.image_auth_id == "75irlsvvsehnqdajg2r481mjk54ecodc"
