"""Routes of the upstream GPU-instance OpenAPI, relative to ``/v1``.

Handlers are thin: parse the query or body, call one :class:`World` method, render the upstream
shape. Unknown query and body keys are ignored, as upstream does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from novita_gpu.emulator.errors import EmulatorError, error_response, validator_param
from novita_gpu.emulator.handlers import json_endpoint, json_object, page, query_bool, query_int
from novita_gpu.emulator.serialize import (
    clusters_json,
    instance_detail,
    instance_summary,
    job_json,
    template_json,
)
from novita_gpu.emulator.validation import BILLING_MODES
from novita_gpu.emulator.world import World

TEMPLATE_CHANNELS = ("official", "community", "private")


class UpstreamAPI:
    """The upstream routes, bound to one world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
        get, post = ["GET"], ["POST"]
        table: list[tuple[str, Any, list[str]]] = [
            ("/clusters", self.clusters, get),
            ("/products", self.products, get),
            ("/templates", self.templates, get),
            ("/template", self.template, get),
            ("/repository/auths", self.registry_auths, get),
            ("/repository/auth/save", self.save_registry_auth, post),
            ("/repository/auth/delete", self.delete_registry_auth, post),
            ("/gpu/instance/create", self.create, post),
            ("/gpu/instances", self.list_instances, get),
            ("/gpu/instance", self.get_instance, get),
            ("/gpu/instance/start", self.start, post),
            ("/gpu/instance/stop", self.stop, post),
            ("/gpu/instance/restart", self.restart, post),
            ("/gpu/instance/delete", self.delete, post),
            ("/gpu/instance/migrate", self.migrate, post),
            ("/jobs", self.jobs, get),
            ("/job/break", self.break_job, post),
        ]
        return [Route(path, json_endpoint(handler), methods=m) for path, handler, m in table]

    async def clusters(self, request: Request) -> dict[str, Any]:
        return {"data": clusters_json(self.world.catalog)}

    async def products(self, request: Request) -> dict[str, Any]:
        """Filters: clusterId, gpuNum, productName (fuzzy), minCpuPerGpu, minMemoryPerGpu,
        minRootFSSize, billingMethod (default onDemand)."""
        query = request.query_params
        cluster_id = query.get("clusterId", "")
        gpu_num = query_int(request, "gpuNum", high=8)
        name = query.get("productName", "").lower()
        min_cpu = query_int(request, "minCpuPerGpu")
        min_memory = query_int(request, "minMemoryPerGpu")
        min_rootfs = query_int(request, "minRootFSSize")
        billing = query.get("billingMethod") or "onDemand"
        if billing not in BILLING_MODES:
            raise validator_param(f"billingMethod must be one of {', '.join(BILLING_MODES)}")
        catalog, items = self.world.catalog, []
        self.world.settle()
        for product in catalog.products.values():
            clusters = {c.id for c in catalog.clusters_of(product)}
            if (cluster_id and cluster_id not in clusters) or name not in product.name.lower():
                continue
            if product.cpu_per_gpu < min_cpu or product.memory_per_gpu < min_memory:
                continue
            if product.max_root_fs < min_rootfs or billing not in product.billing_methods:
                continue
            free = self.world.free_gpus(product, cluster_id)
            items.append(catalog.product_to_upstream(product, free >= max(gpu_num, 1), free))
        return {"data": items}

    async def templates(self, request: Request) -> dict[str, Any]:
        """``channel`` and ``isMyCommunity`` are required, as in the current docs."""
        channel = request.query_params.get("channel", "")
        mine = query_bool(request, "isMyCommunity")
        if not channel or mine is None:
            raise validator_param("channel and isMyCommunity are required")
        channels = {c.strip() for c in channel.split(",") if c.strip()}
        if not channels <= set(TEMPLATE_CHANNELS):
            raise validator_param(f"channel must be among {', '.join(TEMPLATE_CHANNELS)}")
        name = request.query_params.get("name", "").lower()
        kind = request.query_params.get("type", "")
        found = [
            t
            for t in self.world.catalog.templates.values()
            if t.channel in channels and name in t.name.lower() and (not kind or t.type == kind)
        ]
        return {"template": [template_json(t) for t in page(request, found)], "total": len(found)}

    async def template(self, request: Request) -> dict[str, Any]:
        template_id = request.query_params.get("templateId", "")
        if not template_id:
            raise validator_param("templateId is required")
        return {"template": template_json(self.world.template(template_id))}

    async def registry_auths(self, request: Request) -> dict[str, Any]:
        auths = self.world.catalog.registry_auths.values()
        return {"data": [auth.model_dump() for auth in auths]}

    async def save_registry_auth(self, request: Request) -> dict[str, Any]:
        body = await json_object(request)
        for key in ("name", "username", "password"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise validator_param(f"{key} is required")
        fields = {k: body[k] for k in ("name", "username", "password")}
        self.world.upsert_registry_auths([fields])
        return {}

    async def delete_registry_auth(self, request: Request) -> dict[str, Any]:
        body = await json_object(request)
        self.world.delete_registry_auth(_required_str(body, "id"))
        return {}

    async def create(self, request: Request) -> dict[str, Any]:
        instance = self.world.create_instance(await json_object(request))
        return {"id": instance.id}

    async def list_instances(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        found = self.world.instances(
            name=query.get("name", ""),
            product_name=query.get("productName", ""),
            status=query.get("status", ""),
        )
        config, catalog = self.world.config, self.world.catalog
        items = [instance_summary(config, catalog, i) for i in page(request, found)]
        return {"instances": items, "total": len(found)}

    async def get_instance(self, request: Request) -> dict[str, Any]:
        instance_id = request.query_params.get("instanceId", "")
        if not instance_id:
            raise validator_param("instanceId is required")
        instance = self.world.instance(instance_id)
        return instance_detail(self.world.config, self.world.catalog, instance)

    async def start(self, request: Request) -> dict[str, Any]:
        instance = self.world.start_instance(await _instance_id(request))
        return {"instanceId": instance.id, "state": instance.status.value}

    async def stop(self, request: Request) -> dict[str, Any]:
        instance = self.world.stop_instance(await _instance_id(request))
        return {"instanceId": instance.id, "state": instance.status.value}

    async def restart(self, request: Request) -> dict[str, Any]:
        instance = self.world.restart_instance(await _instance_id(request))
        return {"instanceId": instance.id, "state": instance.status.value}

    async def delete(self, request: Request) -> dict[str, Any]:
        instance = self.world.delete_instance(await _instance_id(request))
        return {"instanceId": instance.id, "state": instance.status.value}

    async def migrate(self, request: Request) -> dict[str, Any]:
        job = self.world.migrate_instance(await _instance_id(request))
        return {"instanceId": job.instance_id, "jobId": job.id, "message": "migration job created"}

    async def jobs(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        found = self.world.jobs(
            job_id=query.get("jobId", ""),
            state=query.get("state", ""),
            job_type=query.get("type", ""),
            since=query_int(request, "startTime"),
            until=query_int(request, "endTime"),
        )
        return {"jobs": [job_json(j) for j in page(request, found)], "total": len(found)}

    async def break_job(self, request: Request) -> dict[str, Any]:
        job = self.world.break_job(_required_str(await json_object(request), "jobId"))
        return {"jobId": job.id}


async def no_such_path(scope: Scope, receive: Receive, send: Send) -> None:
    """Fallback for unknown API paths: 404 in the upstream error shape."""
    error = EmulatorError(404, "NOT_FOUND", f"no route for {scope['method']} {scope['path']}")
    await error_response(error)(scope, receive, send)


async def _instance_id(request: Request) -> str:
    return _required_str(await json_object(request), "instanceId")


def _required_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise validator_param(f"{key} is required")
    return value
