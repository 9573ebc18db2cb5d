"""The body of ``POST /gpu/instance/create``.

:class:`CreateInstanceRequest` validates the documented limits that are cheap to check here and
serialises to the upstream body with :meth:`CreateInstanceRequest.to_body`. The registry
credentials in ``image_auth`` are a ``SecretStr``: they appear only in that body, never in a
repr, a log line or an error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from novita_gpu.upstream.models import EnvVar, PortSpec

BillingMode = Literal["onDemand", "monthly", "spot"]
RESERVED_PORTS = frozenset({2222, 2223, 2224})
"""Ports Novita keeps for itself."""
MAX_PORTS_AND_TOOLS = 15


class ToolSpec(BaseModel):
    """A tool to enable on an official image (``{"name": "Jupyter", "port": 8888}``)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    type: Literal["http", "tcp"] = "http"


def parse_port_list(value: Any) -> Any:
    """Accept ``"8888/http, 22/tcp"`` as well as a list of ports."""
    if not isinstance(value, str):
        return value
    specs = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        port, _, kind = item.partition("/")
        specs.append({"port": port.strip(), "type": kind.strip() or "http"})
    return specs


class CreateInstanceRequest(BaseModel):
    """What to create. ``name`` should be unique: a lost create is found again by it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    product_id: str = Field(min_length=1, max_length=255)
    gpu_num: int = Field(default=1, ge=1, le=8)
    rootfs_size: int = Field(default=60, ge=10, le=6144)
    image_url: str = Field(min_length=1, max_length=500)
    image_auth: SecretStr | None = None
    image_auth_id: str | None = None
    ports: tuple[PortSpec, ...] = ()
    envs: tuple[EnvVar, ...] = Field(default=(), max_length=100)
    tools: tuple[ToolSpec, ...] = ()
    command: str | None = Field(default=None, max_length=2047)
    entrypoint: str | None = Field(default=None, max_length=2047)
    cluster_id: str | None = None
    billing_mode: BillingMode = "onDemand"
    min_cuda_version: str | None = None

    @field_validator("ports", mode="before")
    @classmethod
    def _parse_ports(cls, value: Any) -> Any:
        return parse_port_list(value)

    @field_validator("ports")
    @classmethod
    def _check_ports(cls, ports: tuple[PortSpec, ...]) -> tuple[PortSpec, ...]:
        reserved = sorted(p.port for p in ports if p.port in RESERVED_PORTS)
        if reserved:
            raise ValueError(f"ports {reserved} are reserved by Novita")
        return ports

    @field_validator("tools")
    @classmethod
    def _check_port_budget(
        cls, tools: tuple[ToolSpec, ...], info: ValidationInfo
    ) -> tuple[ToolSpec, ...]:
        ports = info.data.get("ports", ())
        if len(ports) + len(tools) > MAX_PORTS_AND_TOOLS:
            raise ValueError(f"ports plus tools must be at most {MAX_PORTS_AND_TOOLS}")
        return tools

    def port_string(self) -> str:
        """Ports as Novita wants them: ``"8888/http,22/tcp"``."""
        return ",".join(str(port) for port in self.ports)

    def to_body(self) -> dict[str, Any]:
        """The JSON body for ``POST /gpu/instance/create``; optional keys only when set.

        This is the one place the registry credentials are revealed.
        """
        body: dict[str, Any] = {
            "name": self.name,
            "productId": self.product_id,
            "gpuNum": self.gpu_num,
            "rootfsSize": self.rootfs_size,
            "imageUrl": self.image_url,
            "ports": self.port_string(),
            "envs": [{"key": env.key, "value": env.value} for env in self.envs],
            "kind": "gpu",
            "billingMode": self.billing_mode,
        }
        body.update(self._optional_fields())
        return body

    def _optional_fields(self) -> dict[str, Any]:
        optional: dict[str, Any] = {
            "imageAuth": self.image_auth.get_secret_value() if self.image_auth else None,
            "imageAuthId": self.image_auth_id,
            "command": self.command,
            "entrypoint": self.entrypoint,
            "clusterId": self.cluster_id,
            "minCudaVersion": self.min_cuda_version,
        }
        if self.tools:
            optional["tools"] = [
                {"name": t.name, "port": str(t.port), "type": t.type} for t in self.tools
            ]
        return {key: value for key, value in optional.items() if value}
