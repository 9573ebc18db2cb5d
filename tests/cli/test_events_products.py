"""``novita-gpu events`` (history and ``--follow``) and ``novita-gpu products`` against a
live server."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from novita_gpu.client import Client, Event
from tests.cli.conftest import Cli

pytestmark = pytest.mark.slow
PRODUCT = ("--product-name", "RTX 4090 24GB", "--template-id", "pytorch-jupyter")


async def test_follow_continues_an_instances_history(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = await cli.json("instances", "create", "-n", "job-1", *PRODUCT, "--wait")
    history_read = threading.Event()
    original = Client.instance_events

    def instance_events(self: Client, instance_id: str) -> list[Event]:
        try:
            return original(self, instance_id)
        finally:
            history_read.set()

    monkeypatch.setattr(Client, "instance_events", instance_events)
    follow = asyncio.create_task(
        cli("instances", "events", ready["id"], "--follow", "--count", "2", "--json")
    )
    await asyncio.to_thread(history_read.wait, 10)
    assert cli.live is not None
    stop = await cli.live.client.post(f"/api/instances/{ready['id']}/stop")
    assert stop.status_code == 202
    result = await asyncio.wait_for(follow, timeout=30)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines] == [
        "instance.created",
        "instance.running",
        "instance.health_checking",
        "instance.ready",
        "instance.stopping",
        "instance.stopped",
    ]
    assert lines[-1]["instance"]["status"] == "stopped"


async def test_since_replays_every_instance_in_human_form(cli: Cli) -> None:
    ready = await cli.json("instances", "create", "-n", "job-1", *PRODUCT, "--wait")
    first = (await cli.json("instances", "events", ready["id"]))[0]
    result = await cli("events", "--since", first["id"], "--count", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [
        "instance.running",
        "instance.health_checking",
        "instance.ready",
    ]
    assert all("job-1" in line for line in lines)


async def test_follow_filters_by_name(cli: Cli) -> None:
    first = await cli.json("instances", "create", "-n", "job-1", *PRODUCT)
    await cli.json("instances", "create", "-n", "job-2", *PRODUCT)
    created = (await cli.json("instances", "events", first["instanceId"]))[0]
    result = await cli(
        "events", "--name", "job-2", "--since", created["id"], "--count", "1", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["instance"]["name"] == "job-2"


async def test_products(cli: Cli) -> None:
    offers = await cli.json("products", "--product-name", "RTX 4090 24GB")
    assert offers
    assert {offer["productName"] for offer in offers} == {"RTX 4090 24GB"}
    prices = [offer["pricePerHour"] for offer in offers if offer["available"]]
    assert prices == sorted(prices)
    table = await cli("products", "-p", "A100 80GB", "--billing-mode", "onDemand")
    assert table.exit_code == 0, table.output
    assert "A100 80GB" in table.stdout
    assert "onDemand" in table.stdout
