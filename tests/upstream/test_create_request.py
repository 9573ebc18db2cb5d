"""The create body: shape, optional keys, limits, and registry credentials kept secret."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from novita_gpu.upstream import CreateInstanceRequest, EnvVar, PortSpec, ToolSpec


def request(**overrides: object) -> CreateInstanceRequest:
    fields: dict[str, object] = {
        "name": "train-1",
        "product_id": "4090.16c62g",
        "image_url": "pytorch/pytorch:latest",
    }
    fields.update(overrides)
    return CreateInstanceRequest.model_validate(fields)


def test_minimal_body() -> None:
    assert request().to_body() == {
        "name": "train-1",
        "productId": "4090.16c62g",
        "gpuNum": 1,
        "rootfsSize": 60,
        "imageUrl": "pytorch/pytorch:latest",
        "ports": "",
        "envs": [],
        "kind": "gpu",
        "billingMode": "onDemand",
    }


def test_full_body() -> None:
    body = request(
        gpu_num=2,
        rootfs_size=100,
        image_auth=SecretStr("bot:pw"),
        image_auth_id="auth-1",
        ports=[PortSpec(port=8888, type="http"), PortSpec(port=22, type="tcp")],
        envs=[EnvVar(key="A", value="1")],
        tools=[ToolSpec(name="Jupyter", port=8888)],
        command="python train.py",
        entrypoint="/bin/sh",
        cluster_id="us-ca-6",
        billing_mode="spot",
        min_cuda_version="12.4",
    ).to_body()
    assert body["ports"] == "8888/http,22/tcp"
    assert body["envs"] == [{"key": "A", "value": "1"}]
    assert body["tools"] == [{"name": "Jupyter", "port": "8888", "type": "http"}]
    assert body["imageAuth"] == "bot:pw"
    assert body["imageAuthId"] == "auth-1"
    assert (body["clusterId"], body["billingMode"], body["minCudaVersion"]) == (
        "us-ca-6",
        "spot",
        "12.4",
    )
    assert (body["command"], body["entrypoint"], body["gpuNum"]) == (
        "python train.py",
        "/bin/sh",
        2,
    )


def test_ports_from_a_string() -> None:
    parsed = request(ports="8888/http, 22/tcp,6006")
    assert parsed.port_string() == "8888/http,22/tcp,6006/http"


def test_credentials_never_in_repr_or_dump() -> None:
    parsed = request(image_auth="bot:hunter2", envs=[{"key": "TOKEN", "value": "tok-secret"}])
    for text in (repr(parsed), str(parsed)):
        assert "hunter2" not in text
        assert "tok-secret" not in text
    assert "hunter2" not in str(parsed.model_dump())


@pytest.mark.parametrize(
    "overrides",
    [
        {"ports": "2222/tcp"},
        {"ports": [{"port": 70000, "type": "tcp"}]},
        {"ports": "80/udp"},
        {"gpu_num": 9},
        {"rootfs_size": 5},
        {"name": ""},
        {
            "ports": ",".join(f"{8000 + i}/http" for i in range(10)),
            "tools": [{"name": "J", "port": 1}] * 6,
        },
        {"unknown": 1},
    ],
)
def test_invalid_requests_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        request(**overrides)
