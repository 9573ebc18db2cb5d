"""Copying what upstream reports about an instance onto its row (no status decisions here)."""

from __future__ import annotations

from typing import Any

from novita_gpu.db.models import Instance
from novita_gpu.upstream import UpstreamInstance, region_code


def _port_mappings(upstream: UpstreamInstance, known: list[Any]) -> list[dict[str, Any]]:
    known_endpoints = {(m.get("port"), m.get("type")): m.get("endpoint") for m in known}
    mappings = []
    for mapping in upstream.port_mappings:
        endpoint = mapping.endpoint or known_endpoints.get((mapping.port, mapping.type))
        mappings.append({"port": mapping.port, "type": mapping.type, "endpoint": endpoint})
    return mappings


def _connection(upstream: UpstreamInstance) -> dict[str, Any]:
    jupyter = upstream.connect_jupyter
    terminal = upstream.connect_web_terminal
    return {
        "ssh": upstream.ssh_command,
        "sshHostKey": upstream.connect_ssh.host_key if upstream.connect_ssh else None,
        "jupyter": jupyter.address if jupyter and jupyter.address else None,
        "webTerminal": terminal.address if terminal and terminal.address else None,
    }


def apply_snapshot(instance: Instance, upstream: UpstreamInstance, *, detailed: bool) -> None:
    """Copy upstream's view onto ``instance``.

    ``detailed`` snapshots (from a get) carry endpoints and connection components; list items
    may not, so a list snapshot keeps the endpoints and connection details already known.
    """
    instance.upstream_status = upstream.status or instance.upstream_status
    instance.spot_status = upstream.spot_status
    instance.spot_reclaim_time = upstream.spot_reclaim_time
    if upstream.cluster_id:
        instance.cluster_id = upstream.cluster_id
    if upstream.cluster_name:
        instance.region = region_code(upstream.cluster_name)
    if upstream.port_mappings:
        instance.port_mappings = _port_mappings(upstream, list(instance.port_mappings or []))
    if detailed:
        instance.connection = _connection(upstream)
