"""The sender re-checks the target's address at every attempt and connects to that address."""

from __future__ import annotations

import ipaddress

import httpx

from novita_gpu.core.clock import ManualClock
from novita_gpu.core.targets import IPAddress
from novita_gpu.webhooks.sender import WebhookSender
from novita_gpu.webhooks.states import AttemptOutcome


def sender(answers: list[str], seen: list[httpx.Request]) -> WebhookSender:
    """A sender whose DNS gives ``answers`` in turn (a rebinding server) and whose network
    records each request."""

    async def lookup(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(answers.pop(0))]

    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    http = httpx.AsyncClient(transport=httpx.MockTransport(network))
    return WebhookSender(http, ManualClock(), 1.0, allow_private_networks=False, resolver=lookup)


async def test_a_rebound_name_is_refused_at_delivery() -> None:
    seen: list[httpx.Request] = []
    rebinding = sender(["93.184.216.34", "127.0.0.1"], seen)
    first = await rebinding.send("http://hook.example/h", {}, b"{}")
    second = await rebinding.send("http://hook.example/h", {}, b"{}")
    assert first.outcome is AttemptOutcome.SUCCESS
    assert second.outcome is AttemptOutcome.REFUSED
    assert "non-public address 127.0.0.1" in (second.error or "")
    assert len(seen) == 1


async def test_the_connection_goes_to_the_checked_address() -> None:
    seen: list[httpx.Request] = []
    await sender(["93.184.216.34"], seen).send("https://hook.example/h", {"X-A": "1"}, b"{}")
    [request] = seen
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "hook.example"
    assert request.headers["x-a"] == "1"
    assert request.extensions["sni_hostname"] == "hook.example"
