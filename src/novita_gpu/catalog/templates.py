"""What a create needs from an upstream template.

Upstream groups template ports by type (``[{"type": "http", "ports": [8888]}]``) and lists the
ports of official tools (Jupyter on 8888/http) separately; a create takes one flat port list.
:func:`template_spec` flattens both, keeping the first occurrence of each ``port/type``.
``image_auth_id`` is the id of a registry auth, never credentials
(see :meth:`~novita_gpu.catalog.service.CatalogService.registry_credentials`).
"""

from __future__ import annotations

from dataclasses import dataclass

from novita_gpu.upstream import PortSpec, Template, ToolSpec


@dataclass(frozen=True)
class TemplateSpec:
    """A template reduced to create inputs. Each call of
    :meth:`~novita_gpu.catalog.service.CatalogService.get_template` returns fresh lists,
    so callers may change them without touching the cache."""

    id: str
    name: str
    image: str
    image_auth_id: str | None
    ports: list[PortSpec]
    envs: list[dict[str, str]]
    tools: list[ToolSpec]
    rootfs_size: int
    start_command: str


def _port_type(kind: str) -> str:
    return "tcp" if kind.strip().lower() == "tcp" else "http"


def _tools(template: Template) -> list[ToolSpec]:
    return [
        ToolSpec(name=tool.name, port=tool.port, type="tcp" if tool.type == "tcp" else "http")
        for tool in template.tools
        if tool.name and 1 <= tool.port <= 65535
    ]


def flat_ports(template: Template) -> list[PortSpec]:
    """The template's grouped ports, then its tools' ports, each ``port/type`` once."""
    grouped = [(port, _port_type(group.type)) for group in template.ports for port in group.ports]
    tools = [(tool.port, tool.type) for tool in _tools(template)]
    unique = dict.fromkeys((port, kind) for port, kind in [*grouped, *tools] if 1 <= port <= 65535)
    return [PortSpec.model_validate({"port": port, "type": kind}) for port, kind in unique]


def template_spec(template: Template) -> TemplateSpec:
    """The create inputs of ``template`` (new lists each call)."""
    return TemplateSpec(
        id=template.id,
        name=template.name,
        image=template.image,
        image_auth_id=template.image_auth,
        ports=flat_ports(template),
        envs=[{"key": env.key, "value": env.value} for env in template.envs],
        tools=_tools(template),
        rootfs_size=template.rootfs_size,
        start_command=template.start_command,
    )
