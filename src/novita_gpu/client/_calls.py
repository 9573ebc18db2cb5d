"""Every SDK operation as a :class:`Call`: the request to send and how to read the answer.

Calls are plain data built without I/O, so the sync and async clients share them and tests can
inspect them. A call is built once per operation: its retries resend the very same request
(same ``Idempotency-Key``, same body).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic.alias_generators import to_camel

from novita_gpu.client._errors import InvalidResponseError, NotFoundError
from novita_gpu.client._models import (
    ActionResult,
    AutoStopCheck,
    AutoStopStats,
    CreateResult,
    Event,
    EventList,
    Health,
    HeartbeatResult,
    Instance,
    InstancePage,
    ProductList,
    ProductOffer,
    SyncResult,
)

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)
Params = dict[str, str | int | float | bool]
WaitOutcome = Literal["reached", "failed", "timeout"]
WaitTarget = Literal["running", "ready", "stopped", "deleted"]
Action = Literal["start", "stop", "delete"]
INSTANCES = "/api/instances"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the parser of its success response.

    ``wait_seconds`` is how long the server may hold the request (long-poll); the read timeout
    is extended by that much. ``retry`` says the request is safe to send again.
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Params = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    wait_seconds: float = 0.0
    retry: bool = True


@dataclass(frozen=True)
class WaitStep:
    """One long-poll answer: the instance and the server's ``X-Wait-Result``."""

    instance: Instance
    outcome: WaitOutcome


def response_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise InvalidResponseError(
            f"expected JSON from {response.request.url.path}, got {response.text[:80]!r}",
            code="INVALID_RESPONSE",
            status_code=response.status_code,
        ) from None


def parse_model(model: type[M], response: httpx.Response) -> M:
    """``response``'s JSON as ``model``; :class:`InvalidResponseError` if it does not fit."""
    try:
        return model.model_validate(response_json(response))
    except pydantic.ValidationError as exc:
        raise InvalidResponseError(
            f"unexpected response from {response.request.url.path}: {exc.error_count()} errors",
            code="INVALID_RESPONSE",
            status_code=response.status_code,
            details=exc.errors(include_url=False, include_context=False),
        ) from None


def parser(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: parse_model(model, response)


def camel_keys(value: Any) -> Any:
    """Mapping keys turned camelCase, recursively (``idle_minutes`` -> ``idleMinutes``)."""
    if isinstance(value, Mapping):
        return {to_camel(str(key)): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [camel_keys(item) for item in value]
    return value


def env_list(envs: Mapping[str, str] | Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """``{"K": "v"}`` or ``[{"key": "K", "value": "v"}]`` as the wire's ``[{key, value}]``."""
    if isinstance(envs, Mapping):
        return [{"key": key, "value": value} for key, value in envs.items()]
    return [{"key": env["key"], "value": env["value"]} for env in envs]


def instance_path(reference: str, suffix: str = "") -> str:
    return f"{INSTANCES}/{quote(reference, safe='')}{suffix}"


def timestamp(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


# Health and catalog


def health() -> Call[Health]:
    return Call("GET", "/health", parser(Health))


def auto_stop_stats() -> Call[AutoStopStats]:
    return Call("GET", f"{INSTANCES}/auto-stop/stats", parser(AutoStopStats))


def trigger_auto_stop(dry_run: bool) -> Call[AutoStopCheck]:
    # A real check is not resent on a lost answer: the next one would pick up what is left.
    body = {"dryRun": dry_run}
    return Call(
        "POST", f"{INSTANCES}/auto-stop/trigger", parser(AutoStopCheck), json=body, retry=dry_run
    )


def sync(dry_run: bool) -> Call[SyncResult]:
    return Call("POST", f"{INSTANCES}/sync", parser(SyncResult), json={"dryRun": dry_run})


def products(
    product_name: str | None, billing_mode: str | None, region: str | None
) -> Call[list[ProductOffer]]:
    params = {"productName": product_name, "billingMode": billing_mode, "region": region}
    return Call(
        "GET",
        "/api/products",
        lambda response: parse_model(ProductList, response).products,
        params={key: value for key, value in params.items() if value},
    )


# Instances


def create_instance(body: dict[str, Any], idempotency_key: str | None) -> Call[CreateResult]:
    """The create; a generated ``Idempotency-Key`` makes its retries safe."""
    key = idempotency_key or f"sdk-{uuid.uuid4()}"
    return Call(
        "POST", INSTANCES, parser(CreateResult), json=body, headers={"Idempotency-Key": key}
    )


def create_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The camelCase create body from snake_case arguments; ``None`` values are left out."""
    body = {to_camel(key): camel_keys(value) for key, value in fields.items() if value is not None}
    if "envs" in body:
        body["envs"] = env_list(fields["envs"])
    return body


def get_instance(reference: str, include_secrets: bool) -> Call[Instance]:
    params: Params = {"includeSecrets": "true"} if include_secrets else {}
    return Call("GET", instance_path(reference), parser(Instance), params=params)


def _live_named(name: str, response: httpx.Response) -> Instance:
    page = parse_model(InstancePage, response)
    for instance in page.instances:
        if instance.name == name and instance.deleted_at is None and instance.status != "deleted":
            return instance
    raise NotFoundError(
        f"No instance named {name!r}",
        code="INSTANCE_NOT_FOUND",
        status_code=404,
        details={"instanceName": name},
    )


def get_instance_by_name(name: str) -> Call[Instance]:
    """The live (not deleted) instance called ``name``; names are unique among those."""
    return Call(
        "GET",
        INSTANCES,
        lambda response: _live_named(name, response),
        params={"name": name, "limit": 100},
    )


def list_instances(
    status: str | Sequence[str] | None,
    name: str | None,
    region: str | None,
    limit: int | None,
    cursor: str | None,
) -> Call[InstancePage]:
    if status is not None and not isinstance(status, str):
        status = ",".join(status)
    values = {"status": status, "name": name, "region": region, "limit": limit, "cursor": cursor}
    params: Params = {key: value for key, value in values.items() if value is not None}
    return Call("GET", INSTANCES, parser(InstancePage), params=params)


def action(reference: str, verb: Action) -> Call[ActionResult]:
    """Start, stop or delete by id; the server makes each idempotent, so retries are safe."""
    if verb == "delete":
        return Call("DELETE", instance_path(reference), parser(ActionResult))
    return Call("POST", instance_path(reference, f"/{verb}"), parser(ActionResult))


def action_by_name(name: str, verb: Action) -> Call[ActionResult]:
    return Call("POST", f"{INSTANCES}/{verb}", parser(ActionResult), json={"instanceName": name})


def heartbeat(reference: str, last_used_at: datetime | str | None) -> Call[HeartbeatResult]:
    when = timestamp(last_used_at)
    body = {"lastUsedAt": when} if when else None
    return Call("PUT", instance_path(reference, "/last-used"), parser(HeartbeatResult), json=body)


def heartbeat_by_name(name: str, last_used_at: datetime | str | None) -> Call[HeartbeatResult]:
    body: dict[str, Any] = {"instanceName": name}
    when = timestamp(last_used_at)
    if when:
        body["lastUsedAt"] = when
    return Call("PUT", f"{INSTANCES}/last-used", parser(HeartbeatResult), json=body)


def instance_events(reference: str) -> Call[list[Event]]:
    return Call(
        "GET",
        instance_path(reference, "/events"),
        lambda response: parse_model(EventList, response).events,
    )


# Long-poll


def _reached(instance: Instance, target: WaitTarget) -> bool:
    if target == "running":
        return instance.status in {"running", "health_checking", "ready"}
    return instance.status == target


def _wait_step(target: WaitTarget, response: httpx.Response) -> WaitStep:
    instance = parse_model(Instance, response)
    header = response.headers.get("X-Wait-Result")
    if header in {"reached", "failed", "timeout"}:
        return WaitStep(instance, header)
    # A server without long-poll answers at once: judge the status ourselves.
    if _reached(instance, target):
        return WaitStep(instance, "reached")
    return WaitStep(instance, "failed" if instance.has_given_up else "timeout")


def wait(reference: str, target: WaitTarget, seconds: float) -> Call[WaitStep]:
    """``GET /api/instances/{id}?waitFor=target&timeout=seconds``."""
    return Call(
        "GET",
        instance_path(reference),
        lambda response: _wait_step(target, response),
        params={"waitFor": target, "timeout": round(seconds, 3)},
        wait_seconds=seconds,
    )
