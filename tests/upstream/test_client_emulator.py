"""The client against the emulator, in-process: every path, every fault kind, the breaker,
Retry-After and a lost create found again by name.

The emulator's world runs on a ``ManualClock`` (instance lifecycles); the client runs on the
``SteppingClock`` of ``conftest`` (its backoff sleeps return at once and are recorded). Network
faults (``timeout``, ``latency``) are real time, so the client's timeout is 0.2 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, Literal

import httpx
import pytest
from starlette.applications import Starlette

from novita_gpu.core.clock import ManualClock
from novita_gpu.emulator import EmulatorConfig, World, create_emulator_app, emulator_transport
from novita_gpu.upstream import (
    CreateInstanceRequest,
    CreateOutcomeUnknown,
    InstanceStatus,
    NovitaClient,
    UpstreamAuthError,
    UpstreamCircuitOpen,
    UpstreamConnectionError,
    UpstreamInsufficientResource,
    UpstreamInvalidState,
    UpstreamNotFound,
    UpstreamPolicy,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamValidationError,
)
from tests.upstream.conftest import Observations, SteppingClock

BASE_URL = "http://emulator.test/gpu-instance/openapi"
ADMIN_URL = "http://emulator.test/_emulator"
KEY = "sk_emulator_key"
POLICY = UpstreamPolicy(
    timeout_seconds=0.2,
    max_attempts=3,
    rate_per_second=10_000,
    burst=10_000,
    breaker_failure_threshold=3,
    breaker_reset_seconds=30,
)
BOOT_SECONDS = 5
"""Enough simulated time for the ``fast`` preset to bring an instance from create to running."""

CREATE = "/gpu/instance/create"
LIST = "/gpu/instances"
GET = "/gpu/instance"


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(random_seed=11, api_keys=[KEY])


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(config: EmulatorConfig, sim_clock: ManualClock) -> Starlette:
    return create_emulator_app(config, clock=sim_clock)


@pytest.fixture
def world(app: Starlette) -> World:
    found: World = app.state.world
    return found


@pytest.fixture
async def emulator_http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=emulator_transport(app)) as http:
        yield http


MakeEmulatorClient = Callable[..., NovitaClient]


@pytest.fixture
def make_emulator_client(
    emulator_http: httpx.AsyncClient, clock: SteppingClock, observations: Observations
) -> MakeEmulatorClient:
    """``make(api_key=..., **policy_overrides)``: a client on the emulator."""

    def make(*, api_key: str = KEY, **overrides: Any) -> NovitaClient:
        return NovitaClient(
            emulator_http,
            base_url=BASE_URL,
            api_key=api_key,
            policy=replace(POLICY, **overrides),
            clock=clock,
            observer=observations,
        )

    return make


@pytest.fixture
def novita(make_emulator_client: MakeEmulatorClient) -> NovitaClient:
    return make_emulator_client()


def request_for(name: str, **overrides: Any) -> CreateInstanceRequest:
    fields: dict[str, Any] = {
        "name": name,
        "product_id": "4090.16c62g",
        "image_url": "pytorch/pytorch:latest",
        "ports": "8888/http,22/tcp",
        "envs": [{"key": "MODE", "value": "train"}],
    }
    fields.update(overrides)
    return CreateInstanceRequest.model_validate(fields)


async def running_instance(novita: NovitaClient, world: World, name: str = "worker") -> str:
    instance_id = await novita.create_instance(request_for(name))
    world.advance(BOOT_SECONDS)
    return instance_id


class TestCatalogPaths:
    async def test_clusters(self, novita: NovitaClient) -> None:
        clusters = {cluster.id: cluster for cluster in await novita.list_clusters()}
        assert clusters["us-ca-6"].name == "US-CA-06"
        assert "RTX 4090 24GB" in clusters["us-ca-6"].available_gpu_type

    async def test_products_with_filters(self, novita: NovitaClient) -> None:
        products = await novita.list_products(product_name="4090", billing_method="spot")
        by_id = {product.id: product for product in products}
        california = by_id["4090.16c62g"]
        assert california.region_codes == ["US-CA-06"]
        assert (california.price, california.spot_price) == (35000, 18000)
        assert california.available_deploy is True
        only_sgp = await novita.list_products(cluster_id="as-sgp-2", gpu_num=1, min_rootfs_size=50)
        assert {p.id for p in only_sgp} >= {"4090.18c60g"}
        assert all("AS-SGP-02" in p.region_codes for p in only_sgp)

    async def test_templates(self, novita: NovitaClient) -> None:
        page = await novita.list_templates(channel="official", is_my_community=False)
        assert page.total is not None
        assert page.total == len(page.templates) > 0
        template = await novita.get_template("pytorch-jupyter")
        assert {str(p) for p in template.port_specs()} >= {"8888/http", "22/tcp"}
        numeric = await novita.get_template(107672)
        assert numeric.id == "107672"
        paged = await novita.list_templates(
            channel="official", is_my_community=False, page_size=1, page_num=2
        )
        assert len(paged.templates) == 1

    async def test_registry_auths(self, novita: NovitaClient) -> None:
        auths = {auth.name: auth for auth in await novita.list_registry_auths()}
        secret = auths["team-registry"].password
        assert secret is not None
        assert secret.get_secret_value() == "emulator-registry-secret"
        assert "emulator-registry-secret" not in repr(auths)


class TestInstancePaths:
    async def test_create_get_list_and_parse(self, novita: NovitaClient, world: World) -> None:
        instance_id = await novita.create_instance(request_for("train-1"))
        fresh = await novita.get_instance(instance_id)
        assert fresh.known_status in {InstanceStatus.TO_CREATE, InstanceStatus.CREATING}
        assert fresh.ssh is None
        world.advance(BOOT_SECONDS)
        ready = await novita.get_instance(instance_id)
        assert ready.known_status is InstanceStatus.RUNNING
        assert (ready.gpu_num, ready.cpu_num, ready.memory) == (1, 16, 62)
        assert ready.ssh is not None
        assert ready.ssh.host == "proxy.us-ca-6.gpu-instance.novita.ai"
        assert ready.ssh_password is not None
        assert {(m.port, m.type) for m in ready.port_mappings} == {(8888, "http"), (22, "tcp")}
        assert ready.created_at is not None
        assert ready.last_stopped_at is None
        assert ready.instance_price == 35000
        page = await novita.list_instances(page_size=10, page_num=0, name="train")
        assert [(i.id, i.status) for i in page.instances] == [(instance_id, "running")]
        assert page.total == 1

    async def test_lifecycle_actions(self, novita: NovitaClient, world: World) -> None:
        instance_id = await running_instance(novita, world)
        stopped = await novita.stop_instance(instance_id)
        assert (stopped.instance_id, stopped.state) == (instance_id, "toStop")
        world.advance(BOOT_SECONDS)
        assert (await novita.get_instance(instance_id)).status == "exited"
        assert (await novita.start_instance(instance_id)).state == "toStart"
        world.advance(BOOT_SECONDS)
        assert (await novita.restart_instance(instance_id)).state == "toRestart"
        world.advance(BOOT_SECONDS)
        assert (await novita.delete_instance(instance_id)).state == "toRemove"
        world.advance(BOOT_SECONDS)
        assert (await novita.get_instance(instance_id)).is_removed

    async def test_migrate_and_jobs(self, novita: NovitaClient, world: World) -> None:
        instance_id = await running_instance(novita, world)
        await novita.stop_instance(instance_id)
        world.advance(BOOT_SECONDS)
        migrated = await novita.migrate_instance(instance_id)
        assert migrated.instance_id == instance_id
        assert migrated.job_id
        jobs = await novita.list_jobs(page_size=10, page_num=0, type="instanceMigrate")
        assert [(job.id, job.instance_id) for job in jobs.jobs] == [(migrated.job_id, instance_id)]
        assert jobs.jobs[0].created_at is not None
        one = await novita.list_jobs(page_size=10, page_num=0, job_id=migrated.job_id)
        assert one.total == 1

    async def test_paging_over_many_instances(self, novita: NovitaClient, world: World) -> None:
        for n in range(7):
            await novita.create_instance(request_for(f"batch-{n}"))
        everything = await novita.list_all_instances(page_size=3)
        assert sorted(i.name for i in everything) == [f"batch-{n}" for n in range(7)]
        counts = world.request_counts()
        assert counts[f"GET {LIST}"] == 3  # pages 0, 1 and 2 (total reached)


class TestRequestErrors:
    @pytest.mark.parametrize("not_found_status", [400, 404])
    async def test_not_found_either_way(
        self,
        not_found_status: Literal[400, 404],
        config: EmulatorConfig,
        novita: NovitaClient,
        world: World,
    ) -> None:
        config.not_found_status = not_found_status
        with pytest.raises(UpstreamNotFound):
            await novita.get_instance("0000000000000000")
        with pytest.raises(UpstreamNotFound):
            await novita.get_template("no-such-template")
        assert world.request_counts()[f"GET {GET}"] == 1

    async def test_invalid_state(self, novita: NovitaClient, world: World) -> None:
        instance_id = await running_instance(novita, world)
        with pytest.raises(UpstreamInvalidState):
            await novita.start_instance(instance_id)

    async def test_insufficient_resource(self, novita: NovitaClient, world: World) -> None:
        world.set_capacity("4090.16c62g", "us-ca-6", 0)
        with pytest.raises(UpstreamInsufficientResource):
            await novita.create_instance(request_for("no-room"))
        assert await novita.find_instances_by_name("no-room") == []

    async def test_validation(self, novita: NovitaClient) -> None:
        with pytest.raises(UpstreamValidationError) as caught:
            await novita.create_instance(request_for("too-big", rootfs_size=5000))
        assert caught.value.reason == "VALIDATOR_PARAM"

    async def test_wrong_key(self, make_emulator_client: MakeEmulatorClient) -> None:
        with pytest.raises(UpstreamAuthError):
            await make_emulator_client(api_key="sk_wrong").list_clusters()


class TestFaults:
    async def test_error_is_retried_then_succeeds(self, novita: NovitaClient, world: World) -> None:
        world.add_fault("error", LIST, count=2)
        page = await novita.list_instances(page_size=10, page_num=0)
        assert page.instances == []
        assert world.request_counts()[f"GET {LIST}"] == 3

    async def test_persistent_error_surfaces_after_max_attempts(
        self, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault("error", LIST, status=502)
        with pytest.raises(UpstreamServerError) as caught:
            await novita.list_instances(page_size=10, page_num=0)
        assert caught.value.status_code == 502
        assert world.request_counts()[f"GET {LIST}"] == 3

    async def test_error_with_a_4xx_status_is_final(
        self, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault("error", LIST, status=400, reason="VALIDATOR_PARAM")
        with pytest.raises(UpstreamValidationError):
            await novita.list_instances(page_size=10, page_num=0)
        assert world.request_counts()[f"GET {LIST}"] == 1

    async def test_rate_limit_honours_retry_after(
        self, novita: NovitaClient, world: World, clock: SteppingClock
    ) -> None:
        world.add_fault("rate_limit", LIST, count=1, retry_after=3)
        await novita.list_instances(page_size=10, page_num=0)
        assert clock.sleeps == [3.0]
        assert world.request_counts()[f"GET {LIST}"] == 2

    async def test_persistent_rate_limit(self, novita: NovitaClient, world: World) -> None:
        world.add_fault("rate_limit", LIST, retry_after=2)
        with pytest.raises(UpstreamRateLimited) as caught:
            await novita.list_instances(page_size=10, page_num=0)
        assert caught.value.retry_after == 2.0

    async def test_small_latency_is_fine(self, novita: NovitaClient, world: World) -> None:
        world.add_fault("latency", LIST, latency_ms=20)
        assert (await novita.list_instances(page_size=10, page_num=0)).total == 0

    async def test_latency_beyond_the_timeout(
        self, make_emulator_client: MakeEmulatorClient, world: World
    ) -> None:
        world.add_fault("latency", LIST, latency_ms=400)
        with pytest.raises(UpstreamTimeout) as caught:
            await make_emulator_client(max_attempts=1).list_instances(page_size=10, page_num=0)
        assert caught.value.maybe_applied is True

    async def test_timeout(self, make_emulator_client: MakeEmulatorClient, world: World) -> None:
        world.add_fault("timeout", GET)
        with pytest.raises(UpstreamTimeout):
            await make_emulator_client(max_attempts=1).get_instance("0000000000000000")

    async def test_timeout_once_then_retried(self, novita: NovitaClient, world: World) -> None:
        world.add_fault("timeout", LIST, count=1)
        assert (await novita.list_instances(page_size=10, page_num=0)).total == 0
        assert world.request_counts()[f"GET {LIST}"] == 2

    async def test_drop(self, make_emulator_client: MakeEmulatorClient, world: World) -> None:
        world.add_fault("drop", LIST)
        with pytest.raises(UpstreamConnectionError) as caught:
            await make_emulator_client(max_attempts=1).list_instances(page_size=10, page_num=0)
        assert caught.value.maybe_applied is True

    async def test_lost_response_on_a_read_is_retried(
        self, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault("lost_response", LIST, count=1)
        assert (await novita.list_instances(page_size=10, page_num=0)).total == 0
        assert world.request_counts()[f"GET {LIST}"] == 2

    async def test_faults_through_the_admin_api(
        self, emulator_http: httpx.AsyncClient, novita: NovitaClient
    ) -> None:
        fault = {"path": LIST, "method": "GET", "kind": "error", "status": 500, "count": 1}
        added = await emulator_http.post(f"{ADMIN_URL}/faults", json=fault)
        assert added.status_code == 200
        await emulator_http.post(f"{ADMIN_URL}/requests/reset")
        await novita.list_instances(page_size=10, page_num=0)
        counts = (await emulator_http.get(f"{ADMIN_URL}/requests")).json()["counts"]
        assert counts == {f"GET {LIST}": 2}


class TestLostCreate:
    async def test_lost_response_is_found_again_by_name(
        self, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault("lost_response", CREATE, count=1)
        with pytest.raises(CreateOutcomeUnknown) as caught:
            await novita.create_instance(request_for("lost-1"))
        assert caught.value.instance_name == "lost-1"
        assert isinstance(caught.value.__cause__, UpstreamConnectionError)
        await novita.create_instance(request_for("lost-10"))
        found = await novita.find_instances_by_name("lost-1")
        assert len(found) == 1
        resolved = await novita.resolve_unknown_create("lost-1")
        assert resolved is not None
        assert resolved.id == found[0].id
        assert world.request_counts()[f"POST {CREATE}"] == 2

    @pytest.mark.parametrize("kind", ["timeout", "error"])
    async def test_other_lost_answers_are_unknown_too(
        self, kind: str, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault(kind, CREATE, count=1)
        with pytest.raises(CreateOutcomeUnknown):
            await novita.create_instance(request_for("maybe"))
        assert world.request_counts()[f"POST {CREATE}"] == 1
        assert await novita.resolve_unknown_create("maybe") is None

    async def test_dropped_before_acting_creates_nothing(
        self, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault("drop", CREATE, count=1)
        with pytest.raises(CreateOutcomeUnknown):
            await novita.create_instance(request_for("dropped"))
        assert await novita.find_instances_by_name("dropped") == []

    async def test_rate_limited_create_is_a_plain_error(
        self, novita: NovitaClient, world: World
    ) -> None:
        world.add_fault("rate_limit", CREATE, count=1)
        with pytest.raises(UpstreamRateLimited):
            await novita.create_instance(request_for("limited"))
        assert world.request_counts()[f"POST {CREATE}"] == 1


class TestBreaker:
    @pytest.mark.parametrize(
        "fault",
        [{"kind": "error"}, {"kind": "timeout"}, {"kind": "drop"}],
        ids=["5xx", "timeout", "drop"],
    )
    async def test_transient_faults_open_it(
        self,
        fault: dict[str, Any],
        make_emulator_client: MakeEmulatorClient,
        world: World,
        observations: Observations,
    ) -> None:
        novita = make_emulator_client(max_attempts=1)
        world.add_fault(path=LIST, **fault)
        for _ in range(3):
            with pytest.raises((UpstreamServerError, UpstreamTimeout, UpstreamConnectionError)):
                await novita.list_instances(page_size=10, page_num=0)
        assert novita.breaker_state == "open"
        with pytest.raises(UpstreamCircuitOpen):
            await novita.list_clusters()
        assert sum(world.request_counts().values()) == 3
        assert observations.outcomes[-1] == "circuit_open"

    async def test_4xx_does_not_open_it(self, novita: NovitaClient, world: World) -> None:
        instance_id = await running_instance(novita, world)
        for _ in range(5):
            with pytest.raises(UpstreamNotFound):
                await novita.get_instance("0000000000000000")
            with pytest.raises(UpstreamInvalidState):
                await novita.start_instance(instance_id)
        assert novita.breaker_state == "closed"

    async def test_recovers_through_half_open(
        self, make_emulator_client: MakeEmulatorClient, world: World, clock: SteppingClock
    ) -> None:
        novita = make_emulator_client(max_attempts=1)
        fault_id = world.add_fault("error", LIST)
        for _ in range(3):
            with pytest.raises(UpstreamServerError):
                await novita.list_instances(page_size=10, page_num=0)
        world.remove_fault(fault_id)
        clock.advance(30)
        assert novita.breaker_state == "half_open"
        assert (await novita.list_instances(page_size=10, page_num=0)).total == 0
        assert novita.breaker_state == "closed"
