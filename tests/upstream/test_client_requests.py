"""What the client sends for every method, and what it makes of the answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from novita_gpu.upstream import (
    ActionResult,
    CreateInstanceRequest,
    MigrateResult,
    NovitaClient,
    UpstreamDecodeError,
)
from tests.upstream import payloads
from tests.upstream.conftest import (
    API_KEY,
    PREFIX,
    TEST_POLICY,
    FakeNovita,
    MakeClient,
    SteppingClock,
    body_of,
    reply,
)

Call = Callable[[NovitaClient], Awaitable[object]]


class TestHeaders:
    async def test_bearer_json_and_user_agent(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on("/clusters", reply(body={"data": [payloads.CLUSTER]}))
        await client.list_clusters()
        headers = novita.requests[0].headers
        assert headers["Authorization"] == f"Bearer {API_KEY}"
        assert headers["Content-Type"] == "application/json"
        assert headers["Accept"] == "application/json"
        assert headers["User-Agent"].startswith("novita-gpu/")

    @pytest.mark.parametrize(
        "base_url",
        [
            "https://api.novita.ai/gpu-instance/openapi",
            "https://api.novita.ai/gpu-instance/openapi/",
            "https://api.novita.ai/gpu-instance/openapi/v1",
            "https://api.novita.ai/gpu-instance/openapi/v1/",
        ],
    )
    async def test_base_url_forms(
        self, base_url: str, http: httpx.AsyncClient, clock: SteppingClock, novita: FakeNovita
    ) -> None:
        client = NovitaClient(
            http, base_url=base_url, api_key=API_KEY, policy=TEST_POLICY, clock=clock
        )
        novita.on("/clusters", reply(body={"data": []}))
        assert await client.list_clusters() == []
        assert str(novita.requests[0].url) == f"https://api.novita.ai{PREFIX}/clusters"
        assert client.base_url == f"https://api.novita.ai{PREFIX}"


GETS: list[Any] = [
    pytest.param(
        lambda c: c.list_products(
            cluster_id="us-ca-6",
            product_name="4090",
            gpu_num=2,
            billing_method="spot",
            min_rootfs_size=50,
        ),
        "/products",
        {
            "clusterId": "us-ca-6",
            "productName": "4090",
            "gpuNum": "2",
            "billingMethod": "spot",
            "minRootFSSize": "50",
        },
        {"data": [payloads.PRODUCT]},
        id="list_products",
    ),
    pytest.param(lambda c: c.list_products(), "/products", {}, {"data": []}, id="products-bare"),
    pytest.param(lambda c: c.list_clusters(), "/clusters", {}, {"data": []}, id="list_clusters"),
    pytest.param(
        lambda c: c.list_templates(
            channel="private", is_my_community=True, name="py", page_size=5, page_num=2
        ),
        "/templates",
        {
            "channel": "private",
            "isMyCommunity": "true",
            "name": "py",
            "pageSize": "5",
            "pageNum": "2",
        },
        {"template": [payloads.TEMPLATE], "total": 1},
        id="list_templates",
    ),
    pytest.param(
        lambda c: c.list_templates(channel="official", is_my_community=False),
        "/templates",
        {"channel": "official", "isMyCommunity": "false"},
        {"template": [], "total": 0},
        id="templates-bare",
    ),
    pytest.param(
        lambda c: c.get_template(107672),
        "/template",
        {"templateId": "107672"},
        {"template": payloads.TEMPLATE},
        id="get_template",
    ),
    pytest.param(
        lambda c: c.list_registry_auths(),
        "/repository/auths",
        {},
        {"data": [payloads.REGISTRY_AUTH]},
        id="list_registry_auths",
    ),
    pytest.param(
        lambda c: c.list_instances(
            page_size=20, page_num=3, name="train", product_name="4090", status="running"
        ),
        "/gpu/instances",
        {
            "pageSize": "20",
            "pageNum": "3",
            "name": "train",
            "productName": "4090",
            "status": "running",
        },
        payloads.instance_page(total=0),
        id="list_instances",
    ),
    pytest.param(
        lambda c: c.get_instance("3560b7fec915bbf9"),
        "/gpu/instance",
        {"instanceId": "3560b7fec915bbf9"},
        payloads.instance(),
        id="get_instance",
    ),
    pytest.param(
        lambda c: c.list_jobs(
            page_size=10, page_num=1, type="instanceMigrate", state="running", job_id="j1"
        ),
        "/jobs",
        {
            "pageSize": "10",
            "pageNum": "1",
            "type": "instanceMigrate",
            "state": "running",
            "jobId": "j1",
        },
        {"jobs": [payloads.JOB], "total": 1},
        id="list_jobs",
    ),
]


@pytest.mark.parametrize(("call", "path", "query", "answer"), GETS)
async def test_gets_send_the_documented_query(
    call: Call,
    path: str,
    query: dict[str, str],
    answer: dict[str, Any],
    client: NovitaClient,
    novita: FakeNovita,
) -> None:
    novita.on(path, reply(body=answer))
    await call(client)
    [request] = novita.requests
    assert request.method == "GET"
    assert request.url.path == PREFIX + path
    assert dict(request.url.params) == query
    assert request.content == b""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("start_instance", "/gpu/instance/start"),
        ("stop_instance", "/gpu/instance/stop"),
        ("restart_instance", "/gpu/instance/restart"),
        ("delete_instance", "/gpu/instance/delete"),
        ("migrate_instance", "/gpu/instance/migrate"),
    ],
)
async def test_actions_post_the_instance_id(
    method: str, path: str, client: NovitaClient, novita: FakeNovita
) -> None:
    novita.on(path, reply(body={"instanceId": "abc", "state": "toStop"}))
    await getattr(client, method)("abc")
    [request] = novita.requests
    assert (request.method, request.url.path) == ("POST", PREFIX + path)
    assert body_of(request) == {"instanceId": "abc"}
    assert request.url.params == httpx.QueryParams()


async def test_create_posts_the_body_and_returns_the_id(
    client: NovitaClient, novita: FakeNovita
) -> None:
    novita.on("/gpu/instance/create", reply(body={"id": "b8f3a01378654e93"}))
    request = CreateInstanceRequest(
        name="train-1", product_id="4090.16c62g", image_url="img", ports="8888/http"
    )
    assert await client.create_instance(request) == "b8f3a01378654e93"
    [sent] = novita.requests
    assert sent.method == "POST"
    assert body_of(sent) == request.to_body()


class TestAnswers:
    async def test_action_results(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on("/gpu/instance/stop", reply(body={"instanceId": "abc", "state": "toStop"}))
        novita.on("/gpu/instance/delete", httpx.Response(200, content=b""))
        novita.on("/gpu/instance/migrate", reply(body={"newInstanceId": "n1", "message": "ok"}))
        assert await client.stop_instance("abc") == ActionResult(instance_id="abc", state="toStop")
        assert await client.delete_instance("abc") == ActionResult()
        migrated = await client.migrate_instance("abc")
        assert migrated == MigrateResult(new_instance_id="n1", message="ok")

    async def test_catalog_answers(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on("/products", reply(body={"data": [payloads.PRODUCT]}))
        novita.on("/template", reply(body={"template": payloads.TEMPLATE}))
        novita.on("/repository/auths", reply(body={"data": [payloads.REGISTRY_AUTH]}))
        [product] = await client.list_products()
        assert product.region_codes == ["US-CA-06", "AS-SGP-02"]
        assert (await client.get_template("107672")).id == "107672"
        [auth] = await client.list_registry_auths()
        assert auth.password is not None

    async def test_instance_answers(self, client: NovitaClient, novita: FakeNovita) -> None:
        novita.on("/gpu/instance", reply(body=payloads.instance(status="pending")))
        novita.on("/jobs", reply(body={"jobs": [payloads.JOB], "total": "1"}))
        instance = await client.get_instance("3560b7fec915bbf9")
        assert (instance.status, instance.gpu_num) == ("pending", 1)
        jobs = await client.list_jobs(page_size=10, page_num=1)
        assert (jobs.total, jobs.jobs[0].id) == (1, "10wi9visv0rqt57w")

    @pytest.mark.parametrize(
        "response",
        [
            pytest.param(httpx.Response(200, text="<html>challenge</html>"), id="html"),
            pytest.param(reply(body={"instances": "nope"}), id="wrong-shape"),
            pytest.param(reply(body=[1, 2]), id="array"),
        ],
    )
    async def test_unreadable_success_is_a_decode_error(
        self, response: httpx.Response, make_client: MakeClient, novita: FakeNovita
    ) -> None:
        novita.on("/gpu/instances", response)
        with pytest.raises(UpstreamDecodeError) as caught:
            await make_client().list_instances(page_size=10, page_num=1)
        assert caught.value.endpoint == "GET /gpu/instances"
        assert len(novita.requests) == 1

    async def test_decode_error_does_not_echo_values(
        self, client: NovitaClient, novita: FakeNovita
    ) -> None:
        novita.on("/gpu/instance", reply(body={"id": "x", "sshPassword": {"nested": "hunter2"}}))
        with pytest.raises(UpstreamDecodeError) as caught:
            await client.get_instance("x")
        assert "sshPassword" in str(caught.value)
        assert "hunter2" not in str(caught.value)
