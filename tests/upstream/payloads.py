"""Response bodies shaped like the real API's, quirks included."""

from __future__ import annotations

from typing import Any

SSH_PASSWORD = "ssh-pass-do-not-log"
REGISTRY_PASSWORD = "registry-pass-do-not-log"


def instance(instance_id: str = "3560b7fec915bbf9", **fields: Any) -> dict[str, Any]:
    """A get-instance body: counts as strings, Unix-second strings, nested connect components."""
    body: dict[str, Any] = {
        "id": instance_id,
        "name": "train-1",
        "clusterId": "as-sgp-2",
        "clusterName": "AS-SGP-02",
        "status": "running",
        "statusError": {"state": "", "message": ""},
        "imageUrl": "pytorch/pytorch:latest",
        "imageAuthId": "",
        "command": "",
        "entrypoint": "",
        "cpuNum": "16",
        "memory": "62",
        "gpuNum": "1",
        "productId": "4090.16c62g",
        "productName": "RTX 4090 24GB",
        "rootfsSize": 60,
        "portMappings": [
            {"port": 8888, "type": "http", "endpoint": "https://abc-8888.proxy.novita.ai"},
            {"port": 22, "type": "tcp", "endpoint": "proxy.as-sgp-2.gpu-instance.novita.ai:39655"},
        ],
        "volumeMounts": [{"type": "local", "size": "50", "mountPath": "/workspace"}],
        "envs": [{"key": "HF_TOKEN", "value": "hf_secret"}],
        "kind": "gpu",
        "billingMode": "spot",
        "endTime": "-1",
        "spotStatus": "",
        "spotReclaimTime": "0",
        "createdAt": "1768435200",
        "lastStartedAt": "1768435260",
        "lastStoppedAt": "0",
        "network": {"id": "", "ip": ""},
        "node": [{"maxRootfsSize": 500}],
        "jobs": [],
        "connectComponentSSH": {
            "sshCommand": "ssh -p 39655 root@proxy.as-sgp-2.gpu-instance.novita.ai",
            "password": SSH_PASSWORD,
            "isRunning": True,
        },
        "connectComponentWebTerminal": {
            "address": "https://term.novita.ai/x",
            "username": "root",
            "password": "term-pass",
            "isRunning": True,
        },
        "connectComponentJupyter": {"port": 8888, "address": "", "isRunning": False},
        "connectComponentLog": {
            "systemLogAddress": "https://log/system",
            "instanceLogAddress": "https://log/instance",
            "isRunning": True,
        },
        "instancePrice": "35000",
        "freeStorageSize": 60,
        "keepDataDay": 7,
        "someFieldNovitaAddedLater": {"x": 1},
    }
    body.update(fields)
    return body


def list_item(instance_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """A list-instances item: flat, no connect components."""
    item: dict[str, Any] = {
        "id": instance_id,
        "name": name,
        "clusterId": "us-ca-6",
        "status": "running",
        "imageUrl": "img",
        "cpuNum": "8",
        "memory": "32",
        "gpuNum": "1",
        "portMappings": [{"port": 8888, "type": "http"}],
        "productId": "4090.16c62g",
        "productName": "RTX 4090 24GB",
        "rootfsSize": 60,
        "billingMode": "onDemand",
        "createdAt": "1768435200",
    }
    item.update(fields)
    return item


def instance_page(*items: dict[str, Any], total: int | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"instances": list(items)}
    if total is not None:
        page["total"] = total
    return page


PRODUCT = {
    "id": "4090.16c62g",
    "name": "RTX 4090 24GB",
    "cpuPerGpu": 16,
    "memoryPerGpu": 62,
    "diskPerGpu": 500,
    "availableDeploy": True,
    "minRootFS": 10,
    "maxRootFS": 500,
    "minLocalStorage": 0,
    "maxLocalStorage": 1000,
    "regions": ["US-CA-06 (California)", "AS-SGP-02 (Singapore)"],
    "price": 35000,
    "monthlyPrice": [{"price": "25000", "month": 1}],
    "billingMethods": ["onDemand", "spot"],
    "spotPrice": "18000",
    "inventoryState": "normal",
}

TEMPLATE = {
    "Id": "107672",
    "name": "PyTorch Jupyter",
    "readme": "# readme",
    "type": "instance",
    "channel": "official",
    "image": "pytorch/pytorch:2.3",
    "imageAuth": "",
    "startCommand": "jupyter lab",
    "entrypoint": "",
    "rootfsSize": 60,
    "ports": [{"type": "http", "ports": [8888, "6006"]}, {"type": "tcp", "ports": [22]}],
    "envs": [{"key": "JUPYTER_TOKEN", "value": "tok"}],
    "tools": [{"name": "Jupyter", "describe": "notebook", "port": 8888, "type": "http"}],
    "createdAt": "1768435200",
    "recommendCards": [{"gpuSpecId": "4090.18c.60g", "cardNum": "1"}],
    "minCudaVersion": "12.1",
}

JOB = {
    "Id": "10wi9visv0rqt57w",
    "user": "u-1",
    "type": "instanceMigrate",
    "envs": [],
    "state": {"state": "running", "error": "", "errorMessage": ""},
    "logAddress": "https://log/job",
    "createdAt": "1768435200",
    "instanceId": "3560b7fec915bbf9",
}

REGISTRY_AUTH = {
    "id": "75irlsvvsehnqdajg2r481mjk54ecodc",
    "name": "ghcr",
    "username": "bot",
    "password": REGISTRY_PASSWORD,
}

CLUSTER = {
    "id": "us-ca-6",
    "name": "US-CA-06",
    "availableGpuType": ["RTX 4090 24GB"],
    "supportNetworkStorage": True,
    "supportInstanceNetwork": False,
}
