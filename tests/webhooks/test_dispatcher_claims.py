"""Claiming: per-instance order, bounded concurrency, several dispatchers on one database,
and taking over the lease of a dispatcher that died."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from novita_gpu.events.types import EventType
from novita_gpu.webhooks.dispatcher import WebhookDispatcher
from novita_gpu.webhooks.repository import DeliveryRepository
from tests.conftest import Api
from tests.support.events import add_instance, record
from tests.support.polling import eventually
from tests.support.receiver import Receiver, status
from tests.webhooks.conftest import DispatcherFactory
from tests.webhooks.helpers import attempts, deliveries, delivery


@pytest.fixture
async def other_receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.close()


def event_ids(receiver: Receiver) -> list[str]:
    return [request.headers["x-event-id"] for request in receiver.requests]


class TestPerInstanceOrder:
    async def test_a_later_event_waits_while_an_earlier_one_is_retried(
        self,
        api: Api,
        receiver: Receiver,
        other_receiver: Receiver,
        dispatcher: WebhookDispatcher,
    ) -> None:
        other_receiver.script(status(503))
        slow = await add_instance(api.ctx, "slow", webhook_url=other_receiver.url)
        fast = await add_instance(api.ctx, "fast", webhook_url=receiver.url)
        first = await record(api.ctx, slow, EventType.CREATED)
        second = await record(api.ctx, slow, EventType.STARTING)
        await record(api.ctx, fast, EventType.CREATED)

        assert await dispatcher.run_once() == 2  # slow's first and fast's: not slow's second
        assert len(receiver.requests) == 1
        assert await dispatcher.run_once() == 0
        retry_at = next(d for d in await deliveries(api.ctx) if d.event_id == first.id)
        api.clock.set(retry_at.next_attempt_at)
        assert await dispatcher.run_once() == 1
        assert await dispatcher.run_once() == 1
        assert event_ids(other_receiver) == [first.id, first.id, second.id]

    async def test_a_final_failure_lets_the_next_event_go(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.script(status(400))
        instance_id = await add_instance(api.ctx, webhook_url=receiver.url)
        first = await record(api.ctx, instance_id, EventType.CREATED)
        second = await record(api.ctx, instance_id, EventType.STARTING)
        assert await dispatcher.run_once() == 1
        assert await dispatcher.run_once() == 1
        assert event_ids(receiver) == [first.id, second.id]
        assert [d.status for d in await deliveries(api.ctx)] == ["failed", "succeeded"]

    async def test_one_instances_events_go_out_one_at_a_time_in_order(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        instance_id = await add_instance(api.ctx, webhook_url=receiver.url)
        for event_type in (EventType.CREATED, EventType.STARTING, EventType.RUNNING):
            await record(api.ctx, instance_id, event_type)
        sent = [await dispatcher.run_once() for _ in range(4)]
        assert sent == [1, 1, 1, 0]
        assert [r.headers["x-webhook-event"] for r in receiver.requests] == [
            "instance.created",
            "instance.starting",
            "instance.running",
        ]


class TestConcurrency:
    async def test_different_instances_are_sent_concurrently(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        receiver.gate = asyncio.Event()
        for name in ("a", "b", "c"):
            await record(api.ctx, await add_instance(api.ctx, name, webhook_url=receiver.url))
        run = asyncio.create_task(dispatcher.run_once())
        await receiver.wait_for(3)  # all three are in flight before any was answered
        receiver.gate.set()
        assert await run == 3

    async def test_at_most_concurrency_attempts_at_once(
        self, api: Api, receiver: Receiver, make_dispatcher: DispatcherFactory
    ) -> None:
        for index in range(6):
            await record(
                api.ctx, await add_instance(api.ctx, f"i{index}", webhook_url=receiver.url)
            )
        dispatcher = make_dispatcher(concurrency=4)
        assert [await dispatcher.run_once() for _ in range(3)] == [4, 2, 0]


class TestSeveralDispatchers:
    async def test_a_claimed_delivery_is_not_claimed_again(
        self, api: Api, receiver: Receiver, make_dispatcher: DispatcherFactory
    ) -> None:
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        first, second = make_dispatcher(), make_dispatcher()
        assert len(await first.claim(10)) == 1
        assert await second.claim(10) == []
        assert await second.run_once() == 0
        assert receiver.requests == []

    async def test_two_dispatchers_never_send_the_same_delivery_twice(
        self, api: Api, receiver: Receiver, make_dispatcher: DispatcherFactory
    ) -> None:
        expected: dict[str, list[str]] = {}
        for index in range(15):
            instance_id = await add_instance(api.ctx, f"i{index}", webhook_url=receiver.url)
            events = [await record(api.ctx, instance_id, t) for t in list(EventType)[:3]]
            expected[instance_id] = [event.id for event in events]
        sent = await asyncio.gather(*(drain(api, make_dispatcher(concurrency=4)) for _ in range(2)))
        total = sum(len(ids) for ids in expected.values())
        assert sum(sent) == total
        assert all(count > 0 for count in sent), sent
        ids = Counter(request.headers["webhook-id"] for request in receiver.requests)
        assert len(ids) == total
        assert set(ids.values()) == {1}
        for instance_id, event_order in expected.items():
            arrived = [
                r.headers["x-event-id"]
                for r in receiver.requests
                if r.headers["x-event-id"] in event_order
            ]
            assert arrived == event_order, instance_id

    async def test_an_expired_lease_is_taken_over_and_the_attempt_recorded(
        self, api: Api, receiver: Receiver, make_dispatcher: DispatcherFactory
    ) -> None:
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        crashed, survivor = make_dispatcher("crashed"), make_dispatcher("survivor")
        [claimed] = await crashed.claim(10)  # ...and dies mid-attempt
        assert crashed.lease.total_seconds() <= 10
        api.clock.advance(crashed.lease.total_seconds() - 1)
        assert await survivor.run_once() == 0
        api.clock.advance(2)
        assert await survivor.run_once() == 1
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count) == ("succeeded", 2)
        interrupted, delivered = await attempts(api.ctx, row.id)
        assert (interrupted.outcome, delivered.outcome) == ("interrupted", "success")
        assert "dispatcher crashed stopped mid-attempt" in (interrupted.error or "")

        await crashed.attempt(claimed)  # it comes back: at least once, never corrupting
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count) == ("succeeded", 2)
        assert len(await attempts(api.ctx, row.id)) == 3
        assert len(receiver.requests) == 2

    @pytest.mark.parametrize("settings_overrides", [{"webhook_timeout": 30_000}])
    async def test_a_long_attempt_keeps_its_lease(
        self, api: Api, receiver: Receiver, make_dispatcher: DispatcherFactory
    ) -> None:
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        slow, other = make_dispatcher("slow"), make_dispatcher("other")
        receiver.gate = asyncio.Event()
        running = asyncio.create_task(slow.run_once())
        await receiver.wait_until(lambda: len(receiver.requests) == 1)
        for _ in range(6):  # 24 s of simulated time: well past one lease
            api.clock.advance(4)
            await until_lease_reaches(api, api.clock.now() + slow.lease)
            assert await other.run_once() == 0
        receiver.gate.set()
        assert await running == 1
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count, row.lease_owner) == ("succeeded", 1, None)
        assert len(receiver.requests) == 1


async def until_lease_reaches(api: Api, when: datetime) -> None:
    async def renewed() -> bool:
        return (await delivery(api.ctx)).lease_expires_at == when

    await eventually(renewed, what="the lease renewal")


async def drain(api: Api, dispatcher: WebhookDispatcher) -> int:
    """Run ``dispatcher`` until nothing is left to send; how many attempts it made."""
    made = 0
    while True:
        sent = await dispatcher.run_once()
        made += sent
        if sent:
            continue
        async with api.ctx.db.read() as session:
            if (await DeliveryRepository(session).backlog(api.clock.now())).pending == 0:
                return made
        await asyncio.sleep(0.005)
