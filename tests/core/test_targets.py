"""WEBHOOK_ALLOW_PRIVATE_NETWORKS=false: which addresses are refused."""

from __future__ import annotations

import ipaddress

import pytest

from novita_gpu.core.errors import ValidationFailed
from novita_gpu.core.targets import (
    IPAddress,
    Resolver,
    TargetRefused,
    check_public,
    is_public,
    pin,
    require_allowed,
)


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


def test_shared_address_space_is_not_public() -> None:
    assert not is_public(ipaddress.ip_address("100.100.100.200"))  # a cloud metadata service


def resolver_to(address: str) -> Resolver:
    async def lookup(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(address)]

    return lookup


async def test_pin_connects_to_the_checked_address_with_the_original_host() -> None:
    pinned = await pin("https://u:p@hook.example:8443/h?q=1", resolver_to("93.184.216.34"))
    assert pinned.url == "https://u:p@93.184.216.34:8443/h?q=1"
    assert pinned.host_header == "hook.example:8443"
    assert pinned.extensions == {"sni_hostname": "hook.example"}
    six = await pin("http://hook.example/h", resolver_to("2606:4700:4700::1111"))
    assert six.url == "http://[2606:4700:4700::1111]/h"


async def test_pin_refuses_a_name_that_now_resolves_privately() -> None:
    with pytest.raises(TargetRefused, match=r"hook.example resolves to non-public address 10\."):
        await pin("http://hook.example/h", resolver_to("10.0.0.1"))


async def test_require_allowed_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        await require_allowed(
            "http://hook.example/", "webhookUrl", allowed=False, resolver=resolver_to("::1")
        )
    assert caught.value.details == [
        {
            "field": "webhookUrl",
            "message": "hook.example resolves to non-public address ::1; "
            "this server does not send to private networks",
        }
    ]
    await require_allowed("http://127.0.0.1/", "webhookUrl", allowed=True)
