"""Readiness probes follow the private-network rule of webhooks."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from novita_gpu.core.config import load_settings
from novita_gpu.core.targets import IPAddress
from novita_gpu.reconciler.jobs.readiness import probe_guard
from novita_gpu.reconciler.probes import Guard, probe_http, probe_tcp


def recording(seen: list[httpx.Request]) -> httpx.AsyncClient:
    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    return httpx.AsyncClient(transport=httpx.MockTransport(network))


async def public(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address("93.184.216.34")]


FORBID = Guard(private_ok=False)


async def test_a_private_http_endpoint_is_not_probed() -> None:
    seen: list[httpx.Request] = []
    result = await probe_http(recording(seen), 8888, "127.0.0.1:8888", 1.0, FORBID)
    assert not result.healthy
    assert "refused: 127.0.0.1 resolves to non-public address" in (result.error or "")
    assert seen == []


async def test_a_public_endpoint_is_probed_at_the_checked_address() -> None:
    seen: list[httpx.Request] = []
    guard = Guard(private_ok=False, resolver=public)
    result = await probe_http(recording(seen), 8888, "app.example:8888", 1.0, guard)
    assert result.healthy
    assert (seen[0].url.host, seen[0].headers["host"]) == ("93.184.216.34", "app.example:8888")


async def test_a_private_tcp_endpoint_is_not_connected() -> None:
    result = await probe_tcp(22, "10.1.2.3:22", 1.0, FORBID)
    assert "refused: 10.1.2.3 resolves to non-public" in (result.error or "")


@pytest.mark.parametrize(
    ("overrides", "private_ok"),
    [
        pytest.param({"api_tokens": "t"}, True, id="emulator-ports-are-local"),
        pytest.param({"api_tokens": "t", "novita_api_key": "k"}, False, id="novita-with-tokens"),
        pytest.param({"novita_api_key": "k"}, True, id="novita-loopback-open"),
    ],
)
def test_the_guard_follows_the_settings(overrides: dict[str, str], private_ok: bool) -> None:
    assert probe_guard(load_settings(_env_file=None, **overrides)).private_ok is private_ok
