"""Sending one delivery: success, every retryable and final failure, attempts and metrics.

The receiver is a real HTTP server on a loopback port; time between attempts is a manual
clock, advanced to each delivery's ``next_attempt_at``.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from novita_gpu.db.models import InstanceEvent
from novita_gpu.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import Api
from tests.support.events import add_instance, record
from tests.support.node import express_verify, needs_node
from tests.support.receiver import CLOSE, HANG, Receiver, status
from tests.webhooks.helpers import attempts, delivered, deliveries, delivery, metric


async def one_event(api: Api, url: str) -> InstanceEvent:
    instance_id = await add_instance(api.ctx, webhook_url=url)
    return await record(api.ctx, instance_id)


async def advance_to_next_attempt(api: Api) -> None:
    row = await delivery(api.ctx)
    assert row.status == "pending"
    api.clock.set(row.next_attempt_at)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


class TestSuccess:
    async def test_post_carries_the_stored_payload_to_the_url(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        event = await one_event(api, receiver.url + "?token=abc")
        assert await dispatcher.run_once() == 1
        [request] = receiver.requests
        assert (request.method, request.path) == ("POST", "/hook?token=abc")
        assert request.body == event.payload.encode("utf-8")
        assert request.headers["x-event-id"] == event.id
        assert request.headers["x-webhook-event"] == "instance.created"
        assert request.headers["webhook-id"] == (await delivery(api.ctx)).id

    async def test_success_is_recorded_with_its_attempt(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        await one_event(api, receiver.url)
        api.clock.advance(3)
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count, row.last_status_code) == ("succeeded", 1, 200)
        assert row.delivered_at == api.clock.now()
        assert (row.lease_owner, row.lease_expires_at, row.last_error) == (None, None, None)
        [attempt] = await attempts(api.ctx, row.id)
        assert (attempt.attempt_number, attempt.outcome, attempt.status_code) == (
            1,
            "success",
            200,
        )
        assert attempt.response_excerpt == "ok"
        assert attempt.duration_ms >= 0

    async def test_metrics_count_the_outcome_and_the_event_to_webhook_latency(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        await one_event(api, receiver.url)
        api.clock.advance(3)
        await dispatcher.run_once()
        assert delivered(api.ctx, "succeeded") == 1
        assert metric(api.ctx, "novita_gpu_event_to_webhook_seconds_count") == 1
        assert metric(api.ctx, "novita_gpu_event_to_webhook_seconds_sum") == 3.0

    async def test_nothing_due_nothing_sent(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        assert await dispatcher.run_once() == 0
        await add_instance(api.ctx, webhook_url=receiver.url)
        assert await dispatcher.run_once() == 0
        assert receiver.requests == []


class TestTwoTargets:
    @pytest.fixture
    def settings_overrides(self, receiver: Receiver) -> dict[str, Any]:
        return {"webhook_url": receiver.url + "?scope=global"}

    async def test_each_target_is_its_own_verifiable_delivery(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        event = await one_event(api, receiver.url)
        assert await dispatcher.run_once() == 2
        by_path = {request.path: request for request in receiver.requests}
        assert set(by_path) == {"/hook", "/hook?scope=global"}
        ids = {request.headers["webhook-id"] for request in receiver.requests}
        assert len(ids) == 2
        assert {request.headers["x-event-id"] for request in receiver.requests} == {event.id}
        targets = {row.target for row in await deliveries(api.ctx)}
        assert targets == {"instance", "global"}


class TestRetries:
    async def test_503_is_retried_after_a_jittered_backoff(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(503, body=b"busy"))
        await one_event(api, receiver.url)
        sent_at = api.clock.now()
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count, row.last_status_code) == ("pending", 1, 503)
        assert row.last_error == "HTTP 503"
        waited = (row.next_attempt_at - sent_at).total_seconds()
        assert 3.75 <= waited <= 6.25
        assert await dispatcher.run_once() == 0
        await advance_to_next_attempt(api)
        assert await dispatcher.run_once() == 1
        assert (await delivery(api.ctx)).status == "succeeded"
        outcomes = [(a.attempt_number, a.status_code) for a in await attempts(api.ctx, row.id)]
        assert outcomes == [(1, 503), (2, 200)]
        first, second = receiver.requests
        assert first.body == second.body
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert (delivered(api.ctx, "retrying"), delivered(api.ctx, "succeeded")) == (1, 1)

    async def test_429_waits_for_retry_after(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(429, {"Retry-After": "120"}))
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        assert (await delivery(api.ctx)).next_attempt_at == api.clock.now() + timedelta(seconds=120)
        api.clock.advance(119)
        assert await dispatcher.run_once() == 0
        api.clock.advance(1)
        assert await dispatcher.run_once() == 1
        assert len(receiver.requests) == 2

    async def test_retry_after_as_an_http_date(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        when = api.clock.now() + timedelta(seconds=300)
        receiver.script(status(503, {"Retry-After": format_datetime(when, usegmt=True)}))
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        assert (await delivery(api.ctx)).next_attempt_at == when

    async def test_408_is_retried(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(408))
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        assert (await delivery(api.ctx)).status == "pending"

    async def test_a_dropped_connection_is_retried(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(CLOSE)
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        [attempt] = await attempts(api.ctx, row.id)
        assert (row.status, attempt.outcome, attempt.status_code) == (
            "pending",
            "network_error",
            None,
        )
        assert row.last_error == attempt.error
        await advance_to_next_attempt(api)
        await dispatcher.run_once()
        assert (await delivery(api.ctx)).status == "succeeded"

    async def test_a_refused_connection_is_retried(
        self, api: Api, dispatcher: WebhookDispatcher
    ) -> None:
        await one_event(api, closed_port_url())
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert row.status == "pending"
        assert "ConnectError" in (row.last_error or "")

    @pytest.mark.parametrize("settings_overrides", [{"webhook_timeout": 100}])
    async def test_no_answer_within_the_timeout_is_retried(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(HANG)
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        [attempt] = await attempts(api.ctx, row.id)
        assert (row.status, attempt.outcome) == ("pending", "timeout")
        assert attempt.error == "no answer within 100 ms"


class TestFinalFailures:
    async def test_400_is_final(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(400, body=b'{"error":"bad payload"}'))
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert (row.status, row.last_status_code, row.last_error) == ("failed", 400, "HTTP 400")
        [attempt] = await attempts(api.ctx, row.id)
        assert attempt.response_excerpt == '{"error":"bad payload"}'
        api.clock.advance(86_400 * 2)
        assert await dispatcher.run_once() == 0
        assert delivered(api.ctx, "failed") == 1

    async def test_a_long_response_is_kept_as_an_excerpt(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(422, body=b"x" * 100_000))
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        [attempt] = await attempts(api.ctx, (await delivery(api.ctx)).id)
        assert attempt.response_excerpt == "x" * 1000

    @pytest.mark.parametrize("settings_overrides", [{"webhook_max_attempts": 3}])
    async def test_max_attempts_then_failed_with_every_attempt_recorded(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(503), status(502), status(500))
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        for _ in range(2):
            await advance_to_next_attempt(api)
            await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count) == ("failed", 3)
        assert row.last_error == "HTTP 500; gave up after 3 attempts"
        recorded = [(a.attempt_number, a.status_code) for a in await attempts(api.ctx, row.id)]
        assert recorded == [(1, 503), (2, 502), (3, 500)]
        api.clock.advance(86_400)
        assert await dispatcher.run_once() == 0

    @pytest.mark.parametrize("settings_overrides", [{"webhook_retry_window": 60}])
    async def test_no_retry_is_scheduled_past_the_window(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(*[status(503)] * 5)
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        while (await delivery(api.ctx)).status == "pending":
            await advance_to_next_attempt(api)
            await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert row.last_error == "HTTP 503; retry window exhausted"
        assert len(receiver.requests) == 3  # after 5 s and 20 s; the next (80 s) is too late


class TestPrivateNetworks:
    @pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private_networks": False}])
    async def test_a_loopback_target_is_refused_without_a_request(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        row = await delivery(api.ctx)
        assert row.status == "failed"
        assert "non-public address 127.0.0.1" in (row.last_error or "")
        assert "WEBHOOK_ALLOW_PRIVATE_NETWORKS" in (row.last_error or "")
        [attempt] = await attempts(api.ctx, row.id)
        assert attempt.outcome == "refused"
        assert receiver.requests == []

    async def test_private_targets_are_allowed_by_default(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        await one_event(api, receiver.url)
        await dispatcher.run_once()
        assert (await delivery(api.ctx)).status == "succeeded"


@needs_node
class TestJavaScriptCanonicalBody:
    async def test_json_stringify_of_the_parsed_body_gives_the_same_bytes(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        instance_id = await add_instance(api.ctx, "canonical", webhook_url=receiver.url)
        data = {"n": [1.0, 0.1, 1e-7, 1e21, -0.0, 2**53 - 1], "s": "é\u2028𝄞\ud800"}
        await record(api.ctx, instance_id, data=data)
        await dispatcher.run_once()
        [request] = receiver.requests
        result = await express_verify(request.body, "k", "sha256=x")
        assert result["roundTrip"] is True
