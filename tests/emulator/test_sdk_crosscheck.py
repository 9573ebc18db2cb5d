"""The emulator's answers read by an independent client: the typed PyPI ``novita-sdk``, whose own
integration tests run against the live API. Its pydantic models must accept the emulator's
instance, list, product, cluster and job answers in the default shape set.

Where we deliberately differ from that SDK, the field is listed in ``DELIBERATE_DIFFERENCES``
with the reason, and the test checks the difference is still real (so the list stays true).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import World
from tests.emulator.helpers import running

models = pytest.importorskip(
    "novita.generated.models", reason="novita-sdk (a pinned dev dependency) is not installed"
)

DELIBERATE_DIFFERENCES: dict[str, str] = {
    "connectComponentWebTerminal.url": (
        "the API documentation and the console name it `address` (with `username` and "
        "`password`); we send what they show"
    ),
    "connectComponentJupyter.url": (
        "documented as `address` (only when Jupyter is enabled) plus `port`; the SDK's `url` "
        "and `token` appear in no other source"
    ),
    "connectComponentLog.url": (
        "documented as two addresses, `systemLogAddress` and `instanceLogAddress`"
    ),
}


def _component(detail: dict[str, Any], dotted: str) -> Any:
    component, field = dotted.split(".")
    return detail[component].get(field)


async def test_instance_get_and_list_validate(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    instance_id = await running(client, clock)
    detail = (await client.get("/gpu/instance", params={"instanceId": instance_id})).json()
    listed = (await client.get("/gpu/instances", params={"pageNum": 0, "pageSize": 10})).json()

    info = models.InstanceInfo.model_validate(detail)
    page = models.ListInstancesResponse.model_validate(listed)

    assert info.id == instance_id
    assert info.node is not None
    assert info.node.max_rootfs_size == detail["node"]["maxRootfsSize"]
    ssh = info.connect_component_ssh
    assert ssh is not None
    assert ssh.command == detail["connectComponentSSH"]["sshCommand"]
    assert ssh.user == "root"
    assert ssh.password
    assert [item.id for item in page.instances] == [instance_id]
    assert page.total == 1


async def test_deliberate_differences_are_real(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    instance_id = await running(client, clock)
    detail = (await client.get("/gpu/instance", params={"instanceId": instance_id})).json()
    for dotted in DELIBERATE_DIFFERENCES:
        assert _component(detail, dotted) is None, dotted


@pytest.mark.parametrize("billing", ["onDemand", "spot"])
async def test_products_and_clusters_validate(client: httpx.AsyncClient, billing: str) -> None:
    products = (await client.get("/products", params={"billingMethod": billing})).json()
    clusters = (await client.get("/clusters")).json()

    parsed = models.ListGPUProductsResponse.model_validate(products)
    parsed_clusters = [models.Cluster.model_validate(c) for c in clusters["data"]]

    assert parsed.data
    assert all(p.price_raw > 0 for p in parsed.data)
    if billing == "spot":
        assert all(p.spot_price_raw for p in parsed.data)
    assert parsed_clusters


async def test_jobs_validate_with_the_failure_reason_where_the_sdk_reads_it(
    client: httpx.AsyncClient, clock: ManualClock, world: World
) -> None:
    instance_id = await running(client, clock, billingMode="spot")
    world.reclaim(instance_id, notice_seconds=0)
    clock.advance(1)
    world.set_migrate_outcome("fail")
    await client.post("/gpu/instance/migrate", json={"instanceId": instance_id})
    clock.advance(10)
    jobs = (await client.get("/jobs", params={"pageNum": 0, "pageSize": 10})).json()

    parsed = models.ListJobsResponse.model_validate(jobs)

    [job] = parsed.jobs
    assert job.instance_id == instance_id
    assert job.state.state == "fail"
    assert job.state.message
    assert job.state.message == jobs["jobs"][0]["state"]["errorMessage"]
