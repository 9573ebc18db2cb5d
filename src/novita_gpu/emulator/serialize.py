"""Upstream JSON shapes of instances, jobs, clusters and templates.

Counts are strings, timestamps are Unix-second strings (``"0"`` = never), prices are integers in
1/100000 USD (strings where upstream uses strings). ``statusError`` appears only when set.

Port endpoints point at the emulator's own ``/_endpoints/`` routes under
``config.endpoint_base_url``. Without one (in-process use) they use :data:`IN_PROCESS_BASE`,
a host that only an httpx client built on :func:`emulator_transport` can reach: probing ports
over real sockets needs :class:`EmulatorServer`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from novita_gpu.emulator.catalog import Catalog, Template
from novita_gpu.emulator.config import EmulatorConfig
from novita_gpu.emulator.models import Instance, Job, Status
from novita_gpu.emulator.shapes import Shapes

IN_PROCESS_BASE = "http://novita-emulator.test"
FREE_STORAGE_GB = 60
KEEP_DATA_DAYS = 7


def endpoint_root(config: EmulatorConfig, instance: Instance) -> str:
    """URL prefix of one instance's endpoints (changes when it migrates to another cluster)."""
    base = (config.endpoint_base_url or IN_PROCESS_BASE).rstrip("/")
    return f"{base}/_endpoints/{instance.cluster_id}/{instance.id}"


def port_endpoint(config: EmulatorConfig, instance: Instance, port: int, kind: str) -> str:
    """``http``: a URL that answers like the app behind the port; ``tcp``: ``host:port``."""
    if kind == "http":
        return f"{endpoint_root(config, instance)}/{port}"
    url = urlsplit(config.endpoint_base_url or IN_PROCESS_BASE)
    return f"{url.hostname}:{url.port or instance.tcp_proxy_ports.get(port, 0)}"


def instance_summary(
    config: EmulatorConfig, catalog: Catalog, instance: Instance
) -> dict[str, Any]:
    """A ``GET /gpu/instances`` item: the documented list fields plus observed extras."""
    body: dict[str, Any] = {
        "id": instance.id,
        "name": instance.name,
        "clusterId": instance.cluster_id,
        "clusterName": catalog.cluster_name(instance.cluster_id),
        "status": instance.status.value,
        "imageUrl": instance.image_url,
        "imageAuthId": instance.image_auth_id,
        "command": instance.command,
        "entrypoint": instance.entrypoint,
        "cpuNum": str(instance.cpu_num),
        "memory": str(instance.memory),
        "gpuNum": str(instance.gpu_num),
        "portMappings": [
            {
                "port": m.port,
                "type": m.type,
                "endpoint": port_endpoint(config, instance, m.port, m.type),
            }
            for m in instance.ports
        ],
        "productId": instance.product_id,
        "productName": instance.product_name,
        "rootfsSize": instance.rootfs_size,
        "volumeMounts": [],
        "envs": [env.model_dump() for env in instance.envs],
        "kind": instance.kind,
        "billingMode": instance.billing_mode,
        "endTime": instance.end_time,
        "spotStatus": instance.spot_status.value,
        "spotReclaimTime": _unix(instance.spot_reclaim_time),
        "createdAt": _unix(instance.created_at),
        "lastStartedAt": _unix(instance.last_started_at),
        "lastStoppedAt": _unix(instance.last_stopped_at),
    }
    if instance.status_error is not None:
        error = instance.status_error
        body["statusError"] = {"state": error.state, "message": error.message}
    return body


def instance_detail(config: EmulatorConfig, catalog: Catalog, instance: Instance) -> dict[str, Any]:
    """``GET /gpu/instance``: the union of the list and get fields, plus legacy flat ones."""
    body = instance_summary(config, catalog, instance)
    running = instance.status is Status.RUNNING
    creds = instance.credentials
    ssh_command = _ssh_command(config, instance) if running else ""
    password = creds.ssh_password if running else ""
    product = catalog.products.get(instance.product_id)
    root = endpoint_root(config, instance)
    node = {"maxRootfsSize": product.max_root_fs if product else instance.rootfs_size}
    body.update(
        {
            "connectComponentSSH": _ssh_component(
                config.shapes, ssh_command, password, running, config.ssh_host_key
            ),
            "connectComponentJupyter": _jupyter(config, instance, running),
            "connectComponentWebTerminal": {
                "address": f"{root}/terminal",
                "username": "root",
                "password": creds.terminal_password if running else "",
                "isRunning": running,
            },
            "connectComponentLog": {
                "systemLogAddress": f"{root}/logs/system",
                "instanceLogAddress": f"{root}/logs/instance",
                "isRunning": running,
            },
            "sshCommand": ssh_command,
            "sshPassword": password,
            "node": [node] if config.shapes.node == "list" else node,
            "jobs": [],
            "tools": [tool.name for tool in instance.tools],
            "diskSize": instance.rootfs_size,
            "freeStorageSize": FREE_STORAGE_GB,
            "keepDataDay": KEEP_DATA_DAYS,
            "instancePrice": str(instance.price),
            "localStoragePrice": "0",
            "exitedLocalStoragePrice": "0",
            "version": "v2",
        }
    )
    return body


def _ssh_command(config: EmulatorConfig, instance: Instance) -> str:
    """Novita's proxy command, or the emulator's own SSH server when that is on."""
    if config.ssh_address is not None:
        host, port = config.ssh_address
        return f"ssh root@{host} -p {port}"
    port = instance.credentials.ssh_port
    return f"ssh root@proxy.{instance.cluster_id}.gpu-instance.novita.ai -p {port}"


def _ssh_component(
    shapes: Shapes, command: str, password: str, running: bool, host_key: str | None
) -> dict[str, Any]:
    """``connectComponentSSH``: the documented ``sshCommand``, the typed SDK's ``command`` and
    ``user``, or both (see :mod:`novita_gpu.emulator.shapes`); ``hostKey`` when the emulator's
    own SSH server is on and the instance runs."""
    component: dict[str, Any] = {"password": password, "isRunning": running}
    if running and host_key:
        component["hostKey"] = host_key
    if shapes.ssh in ("both", "docs"):
        component["sshCommand"] = command
    if shapes.ssh in ("both", "sdk"):
        component.update({"command": command, "user": "root" if command else ""})
    return component


def job_json(job: Job, shapes: Shapes | None = None) -> dict[str, Any]:
    """A ``GET /jobs`` item (note the capital ``Id``); the failure reason as ``errorMessage``
    (docs), ``message`` (typed SDK) or both, per ``shapes``."""
    kind = shapes.job_error if shapes else "both"
    state: dict[str, Any] = {"state": job.state.value, "error": job.error}
    if kind in ("both", "docs"):
        state["errorMessage"] = job.error_message
    if kind in ("both", "sdk"):
        state["message"] = job.error_message
    return {
        "Id": job.id,
        "user": "",
        "type": job.type,
        "envs": [],
        "state": state,
        "logAddress": "",
        "createdAt": _unix(job.created_at),
        "instanceId": job.instance_id,
    }


def template_json(template: Template) -> dict[str, Any]:
    """A template as upstream renders it (``Id``, grouped ports, int tool ports)."""
    return template.model_dump()


def clusters_json(catalog: Catalog) -> list[dict[str, Any]]:
    """``GET /clusters`` items, with the GPU names offered in each cluster."""
    offered: dict[str, list[str]] = {cluster_id: [] for cluster_id in catalog.clusters}
    for product in catalog.products.values():
        for cluster in catalog.clusters_of(product):
            if product.name not in offered[cluster.id]:
                offered[cluster.id].append(product.name)
    return [
        {
            "id": cluster.id,
            "name": cluster.name,
            "availableGpuType": offered[cluster.id],
            "supportNetworkStorage": cluster.support_network_storage,
            "supportInstanceNetwork": cluster.support_instance_network,
        }
        for cluster in catalog.clusters.values()
    ]


def _jupyter(config: EmulatorConfig, instance: Instance, running: bool) -> dict[str, Any]:
    enabled = any(m.port == 8888 and m.type == "http" for m in instance.ports) or any(
        tool.name.lower() == "jupyter" for tool in instance.tools
    )
    component: dict[str, Any] = {"port": 8888, "isRunning": running and enabled}
    if enabled:
        component["address"] = port_endpoint(config, instance, 8888, "http")
    return component


def _unix(timestamp: float) -> str:
    return str(int(timestamp))
