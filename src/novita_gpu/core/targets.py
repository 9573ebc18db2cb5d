"""Outbound targets (webhook receivers, readiness probes) and private networks.

When private networks are forbidden (``WEBHOOK_ALLOW_PRIVATE_NETWORKS``, see
:attr:`Settings.private_targets_allowed`), a target is refused when its host is, or resolves
to, an address that is not globally routable: loopback, private, link-local (cloud metadata
services such as 169.254.169.254 live there), shared (100.64/10), multicast, reserved or
unspecified. IPv4-mapped IPv6 addresses are judged by their IPv4 address.

A URL is checked twice: when a client sets it (:func:`require_allowed`: a 400 naming the
field) and at every connection (:func:`pin`), which resolves the name, checks every address
and returns a URL that connects to the checked address itself. A DNS server that answers
with a public address at the first lookup and a private one later (DNS rebinding) therefore
never gets a connection to the private one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from novita_gpu.core.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
_LOCAL_NAMES = ("localhost", "localhost.", "ip6-localhost", "ip6-loopback")
_LOOKUP_SECONDS = 5.0


class TargetRefused(Exception):
    """The target's address is not public; ``str(exc)`` says which address."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to. Raises ``OSError`` when it does not resolve."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    if not host:
        raise TargetRefused("URL has no host")
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def literal_refusal(url: str) -> str | None:
    """Why ``url`` is refused without a DNS lookup (an address or ``localhost``), else None."""
    try:
        host, _ = _host_port(url)
    except (TargetRefused, ValueError) as exc:
        return str(exc)
    if host.lower() in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        return f"{host} is a loopback name"
    address = _literal(host)
    if address is not None and not is_public(address):
        return f"{host} is a non-public address"
    return None


async def check_public(url: str, resolver: Resolver = resolve) -> list[IPAddress]:
    """The addresses of ``url``'s host; raises :class:`TargetRefused` unless all are public.

    Raises ``OSError`` when the host does not resolve (a network error: retried).
    """
    host, port = _host_port(url)
    addresses = await resolver(host, port)
    for address in addresses:
        if not is_public(address):
            raise TargetRefused(
                f"{host} resolves to non-public address {address}; "
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS=false forbids it"
            )
    if not addresses:
        raise OSError(f"{host} has no address")
    return addresses


async def require_allowed(
    url: str | None, field: str, *, allowed: bool, resolver: Resolver = resolve
) -> None:
    """Raise a 400 naming ``field`` when ``url`` targets a private network that is forbidden.

    A name that does not resolve now is accepted: every delivery checks it again.
    """
    if url is None or allowed:
        return
    refusal = literal_refusal(url)
    if refusal is None:
        try:
            async with asyncio.timeout(_LOOKUP_SECONDS):
                await check_public(url, resolver)
        except TargetRefused as exc:
            refusal = str(exc).split(";", 1)[0]
        except (OSError, TimeoutError):
            return
    if refusal is not None:
        raise ValidationFailed.for_field(
            field, f"{refusal}; this server does not send to private networks"
        )


@dataclass(frozen=True)
class Pinned:
    """A request to make instead of ``GET/POST url``: the same URL with the checked address
    as host, the original ``Host`` header, and the TLS server name to verify."""

    url: str
    host_header: str
    sni_hostname: str

    @property
    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.sni_hostname}


async def pin(url: str, resolver: Resolver = resolve) -> Pinned:
    """Resolve and check ``url`` (:func:`check_public`), then pin it to the first address."""
    parts = urlsplit(url)
    host, _ = _host_port(url)
    address = (await check_public(url, resolver))[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    userinfo, _, host_header = parts.netloc.rpartition("@")
    netloc = (f"{userinfo}@" if userinfo else "") + shown + (f":{parts.port}" if parts.port else "")
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return Pinned(pinned, host_header, host)
