"""Response models read the real API's shapes and quirks, and keep secrets out of reprs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from novita_gpu.upstream import (
    InstanceStatus,
    Job,
    PortSpec,
    Product,
    RegistryAuth,
    SSHEndpoint,
    Template,
    TemplatePage,
    UpstreamInstance,
)
from novita_gpu.upstream.instance_models import (
    InstancePage,
    JobPage,
)
from novita_gpu.upstream.models import (
    Cluster,
)
from tests.upstream import payloads

JAN_15 = datetime(2026, 1, 15, tzinfo=UTC)


class TestInstance:
    def test_counts_and_timestamps(self) -> None:
        instance = UpstreamInstance.model_validate(payloads.instance())
        assert (instance.cpu_num, instance.memory, instance.gpu_num) == (16, 62, 1)
        assert instance.created_at == JAN_15
        assert instance.last_started_at == datetime(2026, 1, 15, 0, 1, tzinfo=UTC)
        assert instance.last_stopped_at is None
        assert instance.end_time is None
        assert instance.spot_reclaim_time is None

    def test_empty_strings_mean_none(self) -> None:
        instance = UpstreamInstance.model_validate(payloads.instance(billingMode=""))
        assert instance.spot_status is None
        assert instance.billing_mode is None
        assert instance.image_auth_id is None
        assert instance.status_error is None

    def test_nested_connect_components(self) -> None:
        instance = UpstreamInstance.model_validate(payloads.instance())
        assert instance.ssh == SSHEndpoint("proxy.as-sgp-2.gpu-instance.novita.ai", 39655, "root")
        assert instance.ssh_password is not None
        assert instance.ssh_password.get_secret_value() == payloads.SSH_PASSWORD
        assert instance.connect_jupyter is not None
        assert (instance.connect_jupyter.port, instance.connect_jupyter.address) == (8888, None)
        assert instance.connect_log is not None
        assert instance.connect_log.instance_log_address == "https://log/instance"

    def test_legacy_flat_ssh_fields(self) -> None:
        body = payloads.instance(
            connectComponentSSH=None,
            sshCommand="ssh root@proxy.us-ca-6.gpu-instance.novita.ai -p 40001",
            sshPassword="legacy-pass",
        )
        instance = UpstreamInstance.model_validate(body)
        assert instance.ssh == SSHEndpoint("proxy.us-ca-6.gpu-instance.novita.ai", 40001, "root")
        assert instance.ssh_password is not None
        assert instance.ssh_password.get_secret_value() == "legacy-pass"

    def test_nested_ssh_wins_over_legacy(self) -> None:
        body = payloads.instance(sshCommand="ssh -p 1 old@old", sshPassword="old")
        instance = UpstreamInstance.model_validate(body)
        assert instance.ssh is not None
        assert instance.ssh.port == 39655
        assert instance.ssh_password is not None
        assert instance.ssh_password.get_secret_value() == payloads.SSH_PASSWORD

    def test_port_mappings_status_error_and_spot(self) -> None:
        body = payloads.instance(
            statusError={"state": "pulling", "message": "image not found"},
            spotStatus="reclaiming",
            spotReclaimTime="1768435500",
            status="exited",
        )
        instance = UpstreamInstance.model_validate(body)
        assert [(p.port, p.type) for p in instance.port_mappings] == [(8888, "http"), (22, "tcp")]
        assert instance.port_mappings[1].endpoint == "proxy.as-sgp-2.gpu-instance.novita.ai:39655"
        assert instance.status_error is not None
        assert instance.status_error.message == "image not found"
        assert instance.spot_status == "reclaiming"
        assert instance.spot_reclaim_time == datetime(2026, 1, 15, 0, 5, tzinfo=UTC)
        assert instance.known_status is InstanceStatus.EXITED

    def test_pending_seen_live_is_known(self) -> None:
        instance = UpstreamInstance.model_validate(payloads.instance(status="pending"))
        assert instance.known_status is InstanceStatus.PENDING

    @pytest.mark.parametrize("status", ["Running", "toBeCreated", "somethingNew"])
    def test_unknown_status_is_kept(self, status: str) -> None:
        instance = UpstreamInstance.model_validate(payloads.instance(status=status))
        assert instance.status == status
        assert instance.known_status is None

    def test_nulls_and_missing_fields(self) -> None:
        instance = UpstreamInstance.model_validate(
            {"id": "x", "portMappings": None, "envs": None, "gpuNum": None}
        )
        assert instance.port_mappings == []
        assert instance.envs == []
        assert instance.gpu_num == 0
        assert instance.ssh is None

    def test_numbers_as_numbers_also_work(self) -> None:
        body = payloads.instance(cpuNum=16, memory=62, gpuNum=2, createdAt=1768435200)
        instance = UpstreamInstance.model_validate(body)
        assert (instance.cpu_num, instance.gpu_num, instance.created_at) == (16, 2, JAN_15)

    def test_price_and_volume_size(self) -> None:
        instance = UpstreamInstance.model_validate(payloads.instance())
        assert instance.instance_price == 35000
        assert instance.volume_mounts[0].size == 50

    def test_secrets_are_not_in_the_repr(self) -> None:
        text = repr(UpstreamInstance.model_validate(payloads.instance(sshPassword="flat-pass")))
        for secret in (payloads.SSH_PASSWORD, "term-pass", "hf_secret", "flat-pass"):
            assert secret not in text

    def test_removal_statuses(self) -> None:
        for status in ("toRemove", "removing", "removed"):
            assert UpstreamInstance.model_validate({"id": "x", "status": status}).is_removed
        assert not UpstreamInstance.model_validate({"id": "x", "status": "exited"}).is_removed

    def test_numeric_ids_and_odd_values_do_not_fail_the_page(self) -> None:
        odd = payloads.list_item("a", "odd", cpuNum="lots", createdAt="soon", id=12345)
        page = InstancePage.model_validate(
            payloads.instance_page(odd, payloads.list_item("b", "fine"))
        )
        assert [i.id for i in page.instances] == ["12345", "b"]
        assert (page.instances[0].cpu_num, page.instances[0].created_at) == (0, None)

    def test_list_page(self) -> None:
        page = InstancePage.model_validate(payloads.instance_page(payloads.list_item("a", "n")))
        assert page.total is None
        assert page.instances[0].port_mappings[0].endpoint is None


class TestCatalog:
    def test_product(self) -> None:
        product = Product.model_validate(payloads.PRODUCT)
        assert (product.min_root_fs, product.max_root_fs) == (10, 500)
        assert product.region_codes == ["US-CA-06", "AS-SGP-02"]
        assert (product.price, product.spot_price) == (35000, 18000)
        assert product.price_usd == Decimal("0.35")
        assert product.spot_price_usd == Decimal("0.18")
        assert product.monthly_price[0].price == 25000

    def test_product_old_shape(self) -> None:
        product = Product.model_validate({"id": "p", "regions": {}, "spotPrice": ""})
        assert product.regions == []
        assert product.spot_price_usd is None
        assert product.price_usd is None

    def test_template(self) -> None:
        template = Template.model_validate(payloads.TEMPLATE)
        assert template.id == "107672"
        assert template.image_auth is None
        assert template.tools[0].port == 8888
        assert template.recommend_cards[0].card_num == 1
        assert template.created_at == JAN_15
        assert template.port_specs() == [
            PortSpec(port=8888, type="http"),
            PortSpec(port=6006, type="http"),
            PortSpec(port=22, type="tcp"),
        ]

    def test_template_page_uses_singular_key_and_old_create_time(self) -> None:
        old = {k: v for k, v in payloads.TEMPLATE.items() if k != "createdAt"}
        old["createTime"] = "1768435200"
        page = TemplatePage.model_validate({"template": [old], "total": "1"})
        assert page.total == 1
        assert page.templates[0].created_at == JAN_15

    def test_registry_auth(self) -> None:
        auth = RegistryAuth.model_validate(payloads.REGISTRY_AUTH)
        assert payloads.REGISTRY_PASSWORD not in repr(auth)
        image_auth = auth.image_auth()
        assert image_auth is not None
        assert image_auth.get_secret_value() == f"bot:{payloads.REGISTRY_PASSWORD}"

    def test_cluster(self) -> None:
        cluster = Cluster.model_validate(payloads.CLUSTER)
        assert cluster.available_gpu_type == ["RTX 4090 24GB"]
        assert cluster.support_network_storage is True


class TestJobs:
    def test_job(self) -> None:
        job = Job.model_validate(payloads.JOB)
        assert job.id == "10wi9visv0rqt57w"
        assert job.state.state == "running"
        assert job.created_at == JAN_15

    def test_state_as_plain_string(self) -> None:
        job = Job.model_validate({"Id": "j", "state": "success"})
        assert job.state.state == "success"

    def test_page(self) -> None:
        page = JobPage.model_validate({"jobs": [payloads.JOB], "total": 1})
        assert [job.instance_id for job in page.jobs] == ["3560b7fec915bbf9"]


class TestShapesSourcesDisagreeOn:
    @pytest.mark.parametrize(
        "node", [{"maxRootfsSize": 80}, [{"maxRootfsSize": 80}]], ids=["object", "list"]
    )
    def test_node_as_object_or_list(self, node: object) -> None:
        parsed = UpstreamInstance.model_validate(payloads.instance(node=node))
        assert [n.max_rootfs_size for n in parsed.node] == [80]

    def test_ssh_as_the_typed_sdk_reads_it(self) -> None:
        body = payloads.instance(
            connectComponentSSH={
                "user": "ubuntu",
                "password": "pw",
                "command": "ssh -p 39655 proxy.x",
            },
            sshCommand=None,
            sshPassword=None,
        )
        parsed = UpstreamInstance.model_validate(body)
        assert parsed.ssh == SSHEndpoint(host="proxy.x", port=39655, user="ubuntu")
        assert parsed.ssh_password is not None
        assert parsed.ssh_password.get_secret_value() == "pw"

    @pytest.mark.parametrize("key", ["errorMessage", "message"])
    def test_job_failure_reason_under_either_name(self, key: str) -> None:
        job = Job.model_validate({**payloads.JOB, "state": {"state": "fail", key: "no capacity"}})
        assert job.state.reason == "no capacity"

    def test_product_without_spot_price_is_read_as_not_offered_for_spot(self) -> None:
        product = Product.model_validate(
            {k: v for k, v in payloads.PRODUCT.items() if k != "spotPrice"}
        )
        assert product.spot_price is None
        assert product.spot_price_usd is None


class TestUnreadableListItems:
    def test_a_bad_instance_is_skipped_with_its_id(self) -> None:
        page = InstancePage.model_validate(
            {"instances": [payloads.instance(), {"id": "bad", "portMappings": 7}], "total": "2"}
        )
        assert [i.id for i in page.instances] == ["3560b7fec915bbf9"]
        assert [(s.index, s.item_id) for s in page.skipped] == [(1, "bad")]
        assert page.total == 2

    def test_a_bad_job_is_skipped(self) -> None:
        page = JobPage.model_validate({"jobs": [payloads.JOB, {"type": "x"}], "total": 2})
        assert len(page.jobs) == 1
        assert page.skipped[0].item_id is None
        assert "Id" in page.skipped[0].problem or "id" in page.skipped[0].problem

    def test_a_page_that_is_not_a_list_still_fails_whole(self) -> None:
        with pytest.raises(ValueError, match="instances"):
            InstancePage.model_validate({"instances": "nope"})
