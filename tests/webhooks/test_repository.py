"""Outbox queries: backlog figures for /health, due-ness, re-queueing, purging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from novita_gpu.webhooks.dispatcher import WebhookDispatcher
from novita_gpu.webhooks.repository import Backlog, DeliveryRepository
from tests.conftest import Api
from tests.support.events import add_instance, record
from tests.support.receiver import Receiver, status
from tests.webhooks.conftest import DispatcherFactory
from tests.webhooks.helpers import deliveries


async def backlog(api: Api) -> Backlog:
    async with api.ctx.db.read() as session:
        return await DeliveryRepository(session).backlog(api.clock.now())


async def new_event(api: Api, receiver: Receiver, name: str) -> None:
    await record(api.ctx, await add_instance(api.ctx, name, webhook_url=receiver.url))


class TestBacklog:
    async def test_empty(self, api: Api) -> None:
        assert await backlog(api) == Backlog(0, 0.0, 0, 0, 0)

    async def test_counts_every_state_and_ages_the_oldest_unfinished(
        self,
        api: Api,
        receiver: Receiver,
        dispatcher: WebhookDispatcher,
        make_dispatcher: DispatcherFactory,
    ) -> None:
        receiver.script(status(503), status(200), status(400))
        await new_event(api, receiver, "retrying")
        await dispatcher.run_once()
        api.clock.advance(3)  # less than the first backoff: the retry is not due yet
        await new_event(api, receiver, "succeeded")
        await dispatcher.run_once()
        await new_event(api, receiver, "failed")
        await dispatcher.run_once()
        await new_event(api, receiver, "in-flight")
        assert len(await make_dispatcher("elsewhere").claim(1)) == 1
        api.clock.advance(5)
        await new_event(api, receiver, "queued")
        assert await backlog(api) == Backlog(
            pending=3, oldest_pending_seconds=8.0, failed=1, retrying=1, delivering=1
        )

    async def test_health_reports_the_backlog(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(400))
        await new_event(api, receiver, "failed")
        await dispatcher.run_once()
        await new_event(api, receiver, "waiting")
        api.clock.advance(301)
        body = (await api.client.get("/health")).json()
        assert body["webhooks"] == {
            "pending": 1,
            "oldestPendingSeconds": 301.0,
            "failed": 1,
            "retrying": 0,
        }
        assert body["services"]["webhooks"] == "degraded"

    async def test_failing_deliveries_degrade_webhooks_until_they_succeed(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(503))
        await new_event(api, receiver, "flaky")
        await dispatcher.run_once()
        failing = (await api.client.get("/health")).json()
        assert failing["services"]["webhooks"] == "degraded"
        assert failing["webhooks"]["retrying"] == 1
        [row] = await deliveries(api.ctx)
        api.clock.set(row.next_attempt_at)
        await dispatcher.run_once()
        assert (await api.client.get("/health")).json()["services"]["webhooks"] == "up"


class TestDue:
    async def test_a_scheduled_retry_is_not_due_before_its_time(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(503))
        await new_event(api, receiver, "a")
        await dispatcher.run_once()
        [row] = await deliveries(api.ctx)
        api.clock.set(row.next_attempt_at - timedelta(milliseconds=1))
        assert await dispatcher.claim(10) == []
        api.clock.advance(0.001)
        assert [claimed.id for claimed in await dispatcher.claim(10)] == [row.id]

    async def test_a_claim_carries_what_sending_needs(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        instance_id = await add_instance(api.ctx, "a", webhook_url=receiver.url)
        event = await record(api.ctx, instance_id)
        [claimed] = await dispatcher.claim(10)
        assert (claimed.event_id, claimed.event_type, claimed.payload) == (
            event.id,
            "instance.created",
            event.payload,
        )
        assert (claimed.instance_id, claimed.target, claimed.url) == (
            instance_id,
            "instance",
            receiver.url,
        )
        assert claimed.event_created_at == event.created_at
        [row] = await deliveries(api.ctx)
        assert (row.status, row.lease_owner) == ("delivering", dispatcher.owner)
        assert row.lease_expires_at == api.clock.now() + dispatcher.lease


class TestRequeue:
    @pytest.mark.parametrize("answer", [200, 503])
    async def test_only_a_failed_delivery_is_requeued(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher, answer: int
    ) -> None:
        receiver.script(status(answer))
        await new_event(api, receiver, "a")
        await dispatcher.run_once()
        [row] = await deliveries(api.ctx)
        async with api.ctx.db.write() as session, session.begin():
            assert not await DeliveryRepository(session).requeue_failed(row.id, api.clock.now())

    async def test_requeue_starts_a_fresh_budget(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(410))
        await new_event(api, receiver, "a")
        await dispatcher.run_once()
        api.clock.advance(3600)
        [row] = await deliveries(api.ctx)
        async with api.ctx.db.write() as session, session.begin():
            assert await DeliveryRepository(session).requeue_failed(row.id, api.clock.now())
        [row] = await deliveries(api.ctx)
        assert (row.status, row.attempt_count) == ("pending", 0)
        assert row.created_at == row.next_attempt_at == api.clock.now()


class TestPurge:
    async def test_only_old_successes_are_dropped(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(200), status(400))
        await new_event(api, receiver, "delivered")
        await dispatcher.run_once()
        await new_event(api, receiver, "failed")
        await dispatcher.run_once()
        api.clock.advance(60)
        async with api.ctx.db.write() as session, session.begin():
            purged = await DeliveryRepository(session).purge_delivered(api.clock.now())
        assert purged == 1
        assert [row.status for row in await deliveries(api.ctx)] == ["failed"]
