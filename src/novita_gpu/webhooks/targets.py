"""Which webhook targets may be called when ``WEBHOOK_ALLOW_PRIVATE_NETWORKS=false``.

A target is refused when its host is, or resolves to, any loopback, private, link-local,
multicast, reserved or unspecified address (IPv4-mapped IPv6 addresses are judged by their
IPv4 address). The check resolves the name itself; the HTTP client resolves it again when it
connects, so this guards against misconfiguration, not against a hostile DNS server that
answers differently the second time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The target's address is not public; ``str(exc)`` says which address."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to. Raises ``OSError`` when it does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def check_public(url: str) -> None:
    """Raise :class:`TargetRefused` unless every address of ``url``'s host is public.

    Raises ``OSError`` when the host does not resolve (a network error: retried).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    if not host:
        raise TargetRefused("webhook URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in await resolve(host, port):
        if not is_public(address):
            raise TargetRefused(
                f"{host} resolves to non-public address {address}; "
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS=false forbids it"
            )
