"""The admin API under ``/_emulator/`` (JSON, no auth): arrange the world from outside.

Every route maps to one :class:`World` method of the same meaning; errors use the upstream error
shape (``VALIDATOR_PARAM`` for bad input, not-found for unknown ids).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from novita_gpu.emulator.catalog import CamelModel, Product, RegistryAuth, Template
from novita_gpu.emulator.errors import not_found, validator_param
from novita_gpu.emulator.faults import FaultRule
from novita_gpu.emulator.handlers import json_body, json_endpoint, json_object
from novita_gpu.emulator.models import Instance
from novita_gpu.emulator.shapes import Shapes
from novita_gpu.emulator.world import World

M = TypeVar("M", bound=BaseModel)


class _Advance(CamelModel):
    seconds: float = Field(ge=0)


class _Capacity(CamelModel):
    product_id: str
    cluster_id: str
    available: int = Field(ge=0)


class _Reclaim(CamelModel):
    notice_seconds: float | None = Field(default=None, ge=0)


class _Fail(CamelModel):
    message: str = "instance failed"
    status: str = "exited"


class _App(CamelModel):
    healthy: bool = True
    boot_seconds: float | None = Field(default=None, ge=0)


class _MigrateOutcome(CamelModel):
    outcome: str


class _ShapeSet(CamelModel):
    name: str | None = None
    shapes: Shapes | None = None


class AdminAPI:
    """The admin routes, bound to one world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
        table: list[tuple[str, Any, str]] = [
            ("/state", self.state, "GET"),
            ("/reset", self.reset, "POST"),
            ("/clock/advance", self.advance, "POST"),
            ("/products", self.products, "POST"),
            ("/templates", self.templates, "POST"),
            ("/registry-auths", self.registry_auths, "POST"),
            ("/capacity", self.capacity, "PUT"),
            ("/faults", self.add_fault, "POST"),
            ("/faults", self.list_faults, "GET"),
            ("/faults", self.clear_faults, "DELETE"),
            ("/faults/{fault_id}", self.remove_fault, "DELETE"),
            ("/instances/{instance_id}/reclaim", self.reclaim, "POST"),
            ("/instances/{instance_id}/fail", self.fail, "POST"),
            ("/instances/{instance_id}/vanish", self.vanish, "POST"),
            ("/instances/{instance_id}/app", self.app, "POST"),
            ("/jobs/migrate-outcome", self.migrate_outcome, "PUT"),
            ("/requests", self.requests, "GET"),
            ("/requests/reset", self.reset_requests, "POST"),
            ("/junk-list-items", self.add_junk_list_item, "POST"),
            ("/shapes", self.get_shapes, "GET"),
            ("/shapes", self.set_shapes, "PUT"),
        ]
        return [Route(path, json_endpoint(fn), methods=[method]) for path, fn, method in table]

    async def state(self, request: Request) -> dict[str, Any]:
        return summarize(self.world)

    async def reset(self, request: Request) -> dict[str, Any]:
        self.world.reset()
        return {"ok": True}

    async def advance(self, request: Request) -> dict[str, Any]:
        body = await _parse(request, _Advance)
        self.world.advance(body.seconds)
        return {"now": self.world.clock.now().isoformat(), "unixTime": int(self.world.now())}

    async def products(self, request: Request) -> dict[str, Any]:
        items = [Product.model_validate(p) for p in await _items(request, "products")]
        return {"ids": self.world.upsert_products(items)}

    async def templates(self, request: Request) -> dict[str, Any]:
        items = [Template.model_validate(t) for t in await _items(request, "templates")]
        return {"ids": self.world.upsert_templates(items)}

    async def registry_auths(self, request: Request) -> dict[str, Any]:
        items = await _items(request, "registryAuths")
        auths = [a if "id" not in a else RegistryAuth.model_validate(a) for a in items]
        return {"ids": self.world.upsert_registry_auths(auths)}

    async def capacity(self, request: Request) -> dict[str, Any]:
        body = await _parse(request, _Capacity)
        self.world.set_capacity(body.product_id, body.cluster_id, body.available)
        return {
            "productId": body.product_id,
            "clusterId": body.cluster_id,
            "available": body.available,
        }

    async def add_fault(self, request: Request) -> dict[str, Any]:
        rule = FaultRule.model_validate(await json_object(request))
        return {"id": self.world.faults.add(rule)}

    async def list_faults(self, request: Request) -> dict[str, Any]:
        return {"faults": [rule.model_dump(mode="json") for rule in self.world.faults.rules()]}

    async def clear_faults(self, request: Request) -> dict[str, Any]:
        self.world.clear_faults()
        return {"ok": True}

    async def remove_fault(self, request: Request) -> dict[str, Any]:
        fault_id = request.path_params["fault_id"]
        if not self.world.remove_fault(fault_id):
            raise not_found(404, "RESOURCE_NOT_FOUND", f"fault {fault_id} not found")
        return {"ok": True}

    async def reclaim(self, request: Request) -> dict[str, Any]:
        body = await _parse(request, _Reclaim)
        instance = self.world.reclaim(request.path_params["instance_id"], body.notice_seconds)
        return {"instanceId": instance.id, "spotReclaimTime": str(int(instance.spot_reclaim_time))}

    async def fail(self, request: Request) -> dict[str, Any]:
        body = await _parse(request, _Fail)
        instance = self.world.fail(request.path_params["instance_id"], body.message, body.status)
        return {"instanceId": instance.id, "status": instance.status.value}

    async def vanish(self, request: Request) -> dict[str, Any]:
        self.world.vanish(request.path_params["instance_id"])
        return {"ok": True}

    async def app(self, request: Request) -> dict[str, Any]:
        body = await _parse(request, _App)
        instance_id = request.path_params["instance_id"]
        self.world.set_app(instance_id, healthy=body.healthy, boot_seconds=body.boot_seconds)
        return {"instanceId": instance_id, "healthy": body.healthy}

    async def migrate_outcome(self, request: Request) -> dict[str, Any]:
        body = await _parse(request, _MigrateOutcome)
        self.world.set_migrate_outcome(body.outcome)
        return {"outcome": body.outcome}

    async def requests(self, request: Request) -> dict[str, Any]:
        counts = self.world.request_counts()
        return {"counts": counts, "total": sum(counts.values())}

    async def reset_requests(self, request: Request) -> dict[str, Any]:
        self.world.reset_request_counts()
        return {"ok": True}

    async def add_junk_list_item(self, request: Request) -> dict[str, Any]:
        self.world.add_junk_list_item(await json_object(request))
        return {"ok": True}

    async def get_shapes(self, request: Request) -> dict[str, Any]:
        return self.world.config.shapes.model_dump()

    async def set_shapes(self, request: Request) -> dict[str, Any]:
        """``{"name": "hostile"}`` selects a named set; ``{"shapes": {...}}`` sets fields."""
        body = _ShapeSet.model_validate(await json_object(request))
        try:
            shapes = Shapes.named(body.name) if body.name else body.shapes or Shapes()
        except ValueError as exc:
            raise validator_param(str(exc)) from None
        self.world.config.shapes = shapes
        return shapes.model_dump()


def summarize(world: World) -> dict[str, Any]:
    """The ``GET /_emulator/state`` body: time, instances, jobs, capacity, faults, counts."""
    world.settle()
    return {
        "now": world.clock.now().isoformat(),
        "unixTime": int(world.now()),
        "clockOffsetSeconds": world.clock.offset,
        "instances": [_instance_line(world, i) for i in world.instances()],
        "jobs": [{"id": j.id, "instanceId": j.instance_id, "state": j.state} for j in world.jobs()],
        "capacity": world.capacity.snapshot(),
        "faults": len(world.faults.rules()),
        "migrateOutcome": world.migrate_outcome,
        "requests": world.request_counts(),
        "config": world.config.model_dump(mode="json"),
    }


def _instance_line(world: World, instance: Instance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "name": instance.name,
        "status": instance.status.value,
        "clusterId": instance.cluster_id,
        "productId": instance.product_id,
        "billingMode": instance.billing_mode,
        "spotStatus": instance.spot_status.value,
        "appUp": world.app_is_up(instance),
    }


async def _parse(request: Request, model: type[M]) -> M:
    return model.model_validate(await json_object(request))


async def _items(request: Request, key: str) -> list[dict[str, Any]]:
    """A JSON list, or an object holding the list under ``key``."""
    body = await json_body(request)
    items = body.get(key, []) if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise validator_param(f"expected a list of objects (or {{{key!r}: [...]}})")
    return items
