"""``/api/webhooks/deliveries``: listing, one delivery with its attempts, manual re-queue."""

from __future__ import annotations

from typing import Any

import pytest

from novita_gpu.events.types import EventType
from novita_gpu.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import Api
from tests.support.events import add_instance, record
from tests.support.receiver import Receiver, status
from tests.webhooks.helpers import deliveries

DELIVERIES = "/api/webhooks/deliveries"


async def get_json(api: Api, path: str, **params: Any) -> Any:
    response = await api.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


class TestList:
    async def test_newest_first_camel_case_with_urls_redacted(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        instance_id = await add_instance(api.ctx, webhook_url=receiver.url + "?token=s3cret")
        first = await record(api.ctx, instance_id, EventType.CREATED)
        api.clock.advance(1)
        second = await record(api.ctx, instance_id, EventType.STARTING)
        await dispatcher.run_once()
        items = (await get_json(api, DELIVERIES))["deliveries"]
        assert [item["eventId"] for item in items] == [second.id, first.id]
        newest, oldest = items
        assert newest["eventType"] == "instance.starting"
        assert newest["url"] == receiver.url
        assert "s3cret" not in str(items)
        assert oldest["status"] == "succeeded"
        assert oldest["attemptCount"] == 1
        assert oldest["lastStatusCode"] == 200
        assert oldest["deliveredAt"].endswith("Z")
        assert newest["status"] == "pending"
        assert set(oldest) == {
            "id",
            "eventId",
            "eventType",
            "instanceId",
            "target",
            "url",
            "status",
            "attemptCount",
            "createdAt",
            "nextAttemptAt",
            "lastAttemptAt",
            "deliveredAt",
            "lastStatusCode",
            "lastError",
        }

    async def test_filters_and_limit(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(400))
        one = await add_instance(api.ctx, "one", webhook_url=receiver.url)
        two = await add_instance(api.ctx, "two", webhook_url=receiver.url)
        await record(api.ctx, one)
        await dispatcher.run_once()
        await record(api.ctx, two)
        await record(api.ctx, two, EventType.STARTING)
        by_instance = await get_json(api, DELIVERIES, instanceId=two)
        assert {item["instanceId"] for item in by_instance["deliveries"]} == {two}
        assert len(by_instance["deliveries"]) == 2
        failed = await get_json(api, DELIVERIES, status="failed")
        assert [item["instanceId"] for item in failed["deliveries"]] == [one]
        assert len((await get_json(api, DELIVERIES, limit=1))["deliveries"]) == 1

    @pytest.mark.parametrize(
        "params",
        [{"status": "lost"}, {"limit": 0}, {"limit": 501}],
        ids=["unknown-status", "limit-zero", "limit-too-big"],
    )
    async def test_bad_filters_are_400(self, api: Api, params: dict[str, Any]) -> None:
        response = await api.client.get(DELIVERIES, params=params)
        assert response.status_code == 400
        assert error_code(response) == "VALIDATION_ERROR"


class TestOne:
    async def test_a_delivery_with_every_attempt(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(503, body=b"try later"))
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        await dispatcher.run_once()
        [row] = await deliveries(api.ctx)
        api.clock.set(row.next_attempt_at)
        await dispatcher.run_once()
        body = await get_json(api, f"{DELIVERIES}/{row.id}")
        assert body["status"] == "succeeded"
        assert [
            (a["attemptNumber"], a["statusCode"], a["outcome"], a["responseExcerpt"])
            for a in body["attempts"]
        ] == [(1, 503, "http_error", "try later"), (2, 200, "success", "ok")]
        assert set(body["attempts"][0]) == {
            "attemptNumber",
            "startedAt",
            "durationMs",
            "outcome",
            "statusCode",
            "error",
            "responseExcerpt",
        }

    async def test_unknown_delivery_is_404(self, api: Api) -> None:
        response = await api.client.get(f"{DELIVERIES}/whd_nope")
        assert response.status_code == 404
        assert error_code(response) == "DELIVERY_NOT_FOUND"


class TestRetry:
    async def test_a_failed_delivery_is_queued_again_and_sent(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(404))
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        await dispatcher.run_once()
        [row] = await deliveries(api.ctx)
        assert row.status == "failed"
        response = await api.client.post(f"{DELIVERIES}/{row.id}/retry")
        assert response.status_code == 202
        body = response.json()
        assert (body["status"], body["attemptCount"], len(body["attempts"])) == ("pending", 0, 1)
        assert await dispatcher.run_once() == 1
        body = await get_json(api, f"{DELIVERIES}/{row.id}")
        assert body["status"] == "succeeded"
        assert [a["attemptNumber"] for a in body["attempts"]] == [1, 2]
        assert receiver.requests[0].body == receiver.requests[1].body

    async def test_only_failed_deliveries_can_be_retried(
        self, api: Api, receiver: Receiver
    ) -> None:
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        [row] = await deliveries(api.ctx)
        response = await api.client.post(f"{DELIVERIES}/{row.id}/retry")
        assert response.status_code == 409
        assert error_code(response) == "DELIVERY_NOT_RETRYABLE"
        assert response.json()["error"]["details"] == {"deliveryId": row.id, "status": "pending"}

    async def test_unknown_delivery_is_404(self, api: Api) -> None:
        response = await api.client.post(f"{DELIVERIES}/whd_nope/retry")
        assert response.status_code == 404
        assert error_code(response) == "DELIVERY_NOT_FOUND"
