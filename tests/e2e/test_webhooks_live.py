"""A create with a ``webhookUrl`` ends ``ready`` with no further client call, and the receiver
gets every event in order, with signatures that verify every documented way."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.support.live import live_stack
from tests.support.node import express_verify, needs_node
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow

LIFECYCLE = ["instance.created", "instance.running", "instance.health_checking", "instance.ready"]
SECRETS = [
    pytest.param("plain-shared-secret", id="plain-secret"),
    pytest.param("whsec_" + "c2VjcmV0LWJ5dGVzLWZvci10aGUtdGVzdA==", id="whsec-secret"),
]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.close()


def body(receiver: Receiver) -> dict[str, Any]:
    return {
        "name": "hooked",
        "productName": "RTX 4090 24GB",
        "templateId": "pytorch-jupyter",
        "webhookUrl": receiver.url,
    }


async def wait_for_ready_event(receiver: Receiver) -> list[dict[str, Any]]:
    for count in range(4, 12):
        requests = await receiver.wait_for(count, timeout=30)
        events = [json.loads(r.body) for r in requests]
        if events[-1]["event"] == "instance.ready":
            return events
    raise AssertionError("no instance.ready event")


@pytest.mark.parametrize("secret", SECRETS)
async def test_ready_without_polling_and_every_signature_verifies(
    tmp_path: Path, receiver: Receiver, secret: str
) -> None:
    async with live_stack(tmp_path, preset="fast", webhook_secret=secret) as live:
        created = await live.client.post("/api/instances", json=body(receiver))
        assert created.status_code == 201
        events = await wait_for_ready_event(receiver)
        assert [e["event"] for e in events] == LIFECYCLE
        assert {e["instanceId"] for e in events} == {created.json()["instanceId"]}
        ready = events[-1]
        assert ready["status"] == "ready"
        assert ready["instance"]["status"] == "ready"
        assert ready["data"]["connectionDetails"]["endpoints"]["8888"]
        for request in receiver.requests:
            await assert_signed(request.body, request.headers, secret)


async def assert_signed(raw: bytes, headers: dict[str, str], secret: str) -> None:
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    for name in ("x-signature-sha256", "x-signature", "x-webhook-signature"):
        assert hmac.compare_digest(headers[name], expected), name
    assert headers["x-webhook-timestamp"].isdigit()
    # A whsec_ secret is base64 inside; any other secret is used as its UTF-8 bytes.
    key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
    Webhook(key).verify(raw, headers)  # raises if the Standard Webhooks signature is wrong


@needs_node
async def test_express_style_verifier_accepts_every_event(
    tmp_path: Path, receiver: Receiver
) -> None:
    secret = "express-secret"
    async with live_stack(tmp_path, preset="fast", webhook_secret=secret) as live:
        await live.client.post("/api/instances", json=body(receiver))
        await wait_for_ready_event(receiver)
        for request in receiver.requests:
            verdict = await express_verify(
                request.body, secret, request.headers["x-signature-sha256"]
            )
            assert verdict == {"roundTrip": True, "signatureValid": True}


async def test_global_webhook_url_gets_the_same_events(tmp_path: Path, receiver: Receiver) -> None:
    async with live_stack(tmp_path, webhook_url=receiver.url) as live:
        instance = {k: v for k, v in body(receiver).items() if k != "webhookUrl"}
        created = (await live.client.post("/api/instances", json=instance)).json()
        events = await wait_for_ready_event(receiver)
        assert [e["event"] for e in events] == LIFECYCLE
        history = await live.client.get(f"/api/instances/{created['instanceId']}/events")
        assert [e["id"] for e in history.json()["events"]] == [e["id"] for e in events]
