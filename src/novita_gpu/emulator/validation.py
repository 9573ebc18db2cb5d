"""Request-body checks for ``POST /gpu/instance/create``.

:func:`parse_create` enforces the documented, product-independent limits and raises
``VALIDATOR_PARAM`` on the first violation; the world then checks what depends on the product
(rootfs bounds, billing methods, capacity). Unknown keys are ignored, as upstream does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from novita_gpu.emulator.catalog import EnvVar, Tool
from novita_gpu.emulator.errors import validator_param
from novita_gpu.emulator.models import PortMapping

RESERVED_PORTS = frozenset({2222, 2223, 2224})
MAX_PORTS_AND_TOOLS = 15
MAX_ENVS = 100
MAX_NETWORK_STORAGES = 30
BILLING_MODES = ("onDemand", "monthly", "spot")


@dataclass
class CreateRequest:
    name: str
    product_id: str
    gpu_num: int
    rootfs_size: int
    image_url: str
    image_auth: str
    image_auth_id: str
    ports: list[PortMapping]
    tools: list[Tool]
    envs: list[EnvVar]
    command: str
    entrypoint: str
    cluster_id: str
    kind: str
    billing_mode: str
    month: int


def parse_create(body: Any) -> CreateRequest:
    """Validate a create body. Raises ``EmulatorError`` (``VALIDATOR_PARAM``)."""
    if not isinstance(body, Mapping):
        raise validator_param("request body must be a JSON object")
    ports = parse_ports(_string(body, "ports", max_len=4095))
    tools = _tools(body.get("tools"))
    if len(ports) + len(tools) > MAX_PORTS_AND_TOOLS:
        raise validator_param(f"ports plus tools must be at most {MAX_PORTS_AND_TOOLS}")
    _check_list_length(body, "networkStorages", MAX_NETWORK_STORAGES)
    billing_mode, month = _billing(body)
    return CreateRequest(
        name=_string(body, "name", max_len=255),
        product_id=_string(body, "productId", required=True, max_len=255),
        gpu_num=_int(body, "gpuNum", required=True, low=1, high=8),
        rootfs_size=max(10, _int(body, "rootfsSize", required=True, low=0, high=6144)),
        image_url=_string(body, "imageUrl", required=True, max_len=500),
        image_auth=_image_auth(body),
        image_auth_id=_string(body, "imageAuthId", max_len=255),
        ports=ports,
        tools=tools,
        envs=_envs(body.get("envs")),
        command=_string(body, "command", max_len=2047),
        entrypoint=_string(body, "entrypoint", max_len=2047),
        cluster_id=_string(body, "clusterId", max_len=255),
        kind=_kind(body),
        billing_mode=billing_mode,
        month=month,
    )


def parse_ports(text: str) -> list[PortMapping]:
    """Parse ``"8888/http, 22/tcp"``. Raises ``VALIDATOR_PARAM`` on any bad item."""
    mappings: list[PortMapping] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        number, _, kind = item.partition("/")
        port = _port(number.strip(), f"ports item {item!r}")
        if kind.strip() not in ("http", "tcp"):
            raise validator_param(f"ports item {item!r}: type must be http or tcp")
        if any(m.port == port for m in mappings):
            raise validator_param(f"ports item {item!r}: port listed twice")
        mappings.append(PortMapping(port=port, type=kind.strip()))
    return mappings


def _port(raw: object, where: str) -> int:
    try:
        port = int(str(raw))
    except ValueError:
        raise validator_param(f"{where}: port must be an integer") from None
    if not 1 <= port <= 65535:
        raise validator_param(f"{where}: port must be between 1 and 65535")
    if port in RESERVED_PORTS:
        raise validator_param(f"{where}: ports 2222-2224 are reserved")
    return port


def _string(body: Mapping[str, Any], key: str, *, required: bool = False, max_len: int) -> str:
    value = body.get(key)
    if value is None or (value == "" and not required):
        if required:
            raise validator_param(f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise validator_param(f"{key} must be a string")
    if required and not value:
        raise validator_param(f"{key} must not be empty")
    if len(value) > max_len:
        raise validator_param(f"{key} must be at most {max_len} characters")
    return value


def _int(body: Mapping[str, Any], key: str, *, required: bool, low: int, high: int) -> int:
    value = body.get(key)
    if value is None:
        if required:
            raise validator_param(f"{key} is required")
        return low
    if isinstance(value, bool) or not isinstance(value, int):
        raise validator_param(f"{key} must be an integer")
    if not low <= value <= high:
        raise validator_param(f"{key} must be between {low} and {high}")
    return value


def _image_auth(body: Mapping[str, Any]) -> str:
    value = _string(body, "imageAuth", max_len=10239)
    if value and ":" not in value:
        raise validator_param("imageAuth must be 'username:password'")
    return value


def _kind(body: Mapping[str, Any]) -> str:
    kind = _string(body, "kind", max_len=16) or "gpu"
    if kind != "gpu":
        raise validator_param("kind must be gpu (this emulator offers no CPU products)")
    return kind


def _billing(body: Mapping[str, Any]) -> tuple[str, int]:
    mode = _string(body, "billingMode", max_len=16) or "onDemand"
    if mode not in BILLING_MODES:
        raise validator_param(f"billingMode must be one of {', '.join(BILLING_MODES)}")
    month = _int(body, "month", required=False, low=0, high=36)
    if month > 0:
        return "monthly", month
    return mode, (1 if mode == "monthly" else 0)


def _check_list_length(body: Mapping[str, Any], key: str, limit: int) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise validator_param(f"{key} must be a list")
    if len(value) > limit:
        raise validator_param(f"{key} must have at most {limit} items")
    return value


def _envs(raw: Any) -> list[EnvVar]:
    items = _check_list_length({"envs": raw}, "envs", MAX_ENVS)
    envs: list[EnvVar] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise validator_param("envs items must be objects")
        key = _string(item, "key", max_len=511)
        value = _string(item, "value", max_len=4095)
        envs.append(EnvVar(key=key, value=value))
    return envs


def _tools(raw: Any) -> list[Tool]:
    tools: list[Tool] = []
    for item in _check_list_length({"tools": raw}, "tools", MAX_PORTS_AND_TOOLS):
        if not isinstance(item, Mapping):
            raise validator_param("tools items must be objects")
        port = _port(item.get("port"), f"tool {item.get('name')!r}")
        kind = item.get("type") or "http"
        if kind not in ("http", "tcp"):
            raise validator_param("tools type must be http or tcp")
        tools.append(Tool(name=str(item.get("name") or ""), port=port, type=kind))
    return tools
