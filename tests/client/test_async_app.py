"""The async client against the real app in-process (ASGI transport, emulator upstream,
simulated time): every call, the errors it maps, and the reconciler moving instances."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from novita_gpu.client import (
    AsyncClient,
    ConflictError,
    NoCapacityError,
    NotFoundError,
    ValidationError,
)
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import NO_PROBE, settle

PRODUCT = "RTX 4090 24GB"
TEMPLATE = "pytorch-jupyter"


@pytest.fixture
async def sdk(api: Api) -> AsyncIterator[AsyncClient]:
    async with AsyncClient("http://testserver", http_client=api.client) as client:
        yield client


async def ready(sdk: AsyncClient, api: Api, runner: Runner, name: str = "job-1") -> str:
    created = await sdk.create_instance(name, PRODUCT, TEMPLATE, health_check=NO_PROBE)
    await settle(api, runner)
    instance = await sdk.wait_for_ready(created.instance_id, timeout=5)
    return instance.id


class TestCreate:
    async def test_create_returns_the_creating_instance(self, sdk: AsyncClient) -> None:
        created = await sdk.create_instance("job-1", PRODUCT, TEMPLATE, gpu_num=1)
        assert created.status == "creating"
        assert created.instance.name == "job-1"
        assert created.instance_id.startswith("inst_")
        assert created.novita_instance_id is not None

    async def test_a_repeated_key_returns_the_first_instance(self, sdk: AsyncClient) -> None:
        first = await sdk.create_instance("job-1", PRODUCT, TEMPLATE, idempotency_key="k1")
        again = await sdk.create_instance("job-1", PRODUCT, TEMPLATE, idempotency_key="k1")
        assert again.instance_id == first.instance_id
        with pytest.raises(ConflictError) as caught:
            await sdk.create_instance("job-2", PRODUCT, TEMPLATE, idempotency_key="k1")
        assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"

    async def test_name_taken(self, sdk: AsyncClient) -> None:
        await sdk.create_instance("job-1", PRODUCT, TEMPLATE)
        with pytest.raises(ConflictError) as caught:
            await sdk.create_instance("job-1", PRODUCT, TEMPLATE)
        assert caught.value.code == "NAME_TAKEN"

    async def test_invalid_body_lists_fields(self, sdk: AsyncClient) -> None:
        with pytest.raises(ValidationError) as caught:
            await sdk.create_instance("bad name", PRODUCT, TEMPLATE, gpu_num=9)
        fields = {item["field"] for item in caught.value.details}
        assert fields == {"name", "gpuNum"}
        assert caught.value.request_id

    async def test_unknown_template_and_product(self, sdk: AsyncClient) -> None:
        with pytest.raises(NotFoundError) as caught:
            await sdk.create_instance("job-1", PRODUCT, "no-such-template")
        assert caught.value.code == "TEMPLATE_NOT_FOUND"
        with pytest.raises((NotFoundError, NoCapacityError)):
            await sdk.create_instance("job-2", "Abacus 1KB", TEMPLATE)


class TestReadAndList:
    async def test_get_by_id_novita_id_and_name(self, sdk: AsyncClient) -> None:
        created = await sdk.create_instance("job-1", PRODUCT, TEMPLATE)
        assert (await sdk.get_instance(created.instance_id)).name == "job-1"
        assert created.novita_instance_id is not None
        by_novita = await sdk.get_instance(created.novita_instance_id)
        assert by_novita.id == created.instance_id
        assert (await sdk.get_instance_by_name("job-1")).id == created.instance_id

    async def test_not_found(self, sdk: AsyncClient) -> None:
        with pytest.raises(NotFoundError) as caught:
            await sdk.get_instance("inst_nope")
        assert (caught.value.code, caught.value.status_code) == ("INSTANCE_NOT_FOUND", 404)
        with pytest.raises(NotFoundError):
            await sdk.get_instance_by_name("ghost")

    async def test_list_pages_and_iterates(self, sdk: AsyncClient) -> None:
        for name in ("a-1", "a-2", "a-3"):
            await sdk.create_instance(name, PRODUCT, TEMPLATE)
        page = await sdk.list_instances(limit=2)
        assert (page.total, len(page.instances)) == (3, 2)
        assert page.next_cursor
        names = [instance.name async for instance in sdk.iter_instances(page_size=1)]
        assert names == ["a-3", "a-2", "a-1"]
        filtered = await sdk.list_instances(name="a-2", status=["creating", "ready"])
        assert [i.name for i in filtered.instances] == ["a-2"]

    async def test_products_and_health(self, sdk: AsyncClient) -> None:
        offers = await sdk.products(PRODUCT)
        assert offers
        assert {offer.product_name for offer in offers} == {PRODUCT}
        assert offers[0].available
        assert (await sdk.health()).mode == "emulator"


class TestLifecycle:
    async def test_ready_stop_start_delete(
        self, sdk: AsyncClient, api: Api, runner: Runner
    ) -> None:
        instance_id = await ready(sdk, api, runner)
        assert (await sdk.stop_instance(instance_id)).status == "stopping"
        await settle(api, runner)
        assert (await sdk.get_instance(instance_id)).status == "stopped"
        again = await sdk.stop_instance_by_name("job-1")
        assert again.status == "stopped"
        assert (await sdk.start_instance_by_name("job-1")).status == "starting"
        await settle(api, runner)
        assert (await sdk.wait_for_ready(instance_id, timeout=5)).is_ready
        assert (await sdk.delete_instance(instance_id)).status == "deleting"
        await settle(api, runner)
        with pytest.raises(ConflictError) as caught:
            await sdk.start_instance(instance_id)
        assert caught.value.code == "INSTANCE_NOT_STARTABLE"

    async def test_events_history(self, sdk: AsyncClient, api: Api, runner: Runner) -> None:
        instance_id = await ready(sdk, api, runner)
        events = await sdk.instance_events(instance_id)
        assert [event.type for event in events] == [
            "instance.created",
            "instance.running",
            "instance.health_checking",
            "instance.ready",
        ]
        assert {event.instance_id for event in events} == {instance_id}

    async def test_heartbeat(self, sdk: AsyncClient, api: Api, runner: Runner) -> None:
        instance_id = await ready(sdk, api, runner)
        touched = await sdk.heartbeat(instance_id)
        assert touched.last_used_at is not None
        assert (await sdk.heartbeat_by_name("job-1")).instance_id == instance_id
        with pytest.raises(ValidationError):
            await sdk.heartbeat(instance_id, "2999-01-01T00:00:00Z")
