"""WEBHOOK_ALLOW_PRIVATE_NETWORKS=false: which addresses are refused."""

from __future__ import annotations

import ipaddress

import pytest

from novita_gpu.webhooks.targets import TargetRefused, check_public, is_public


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "https://[::1]/x", "http://localhost/hook", "http://10.0.0.5/"],
)
async def test_private_urls_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="non-public address"):
        await check_public(url)


async def test_a_public_address_passes_without_a_lookup() -> None:
    await check_public("https://8.8.8.8/hook?token=x")


async def test_a_url_without_a_host_is_refused() -> None:
    with pytest.raises(TargetRefused, match="no host"):
        await check_public("http:///hook")
