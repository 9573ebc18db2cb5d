"""The dispatcher as a background loop: wakes on commits, on due retries, and stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from novita_gpu.webhooks.dispatcher import WebhookDispatcher, run_webhook_dispatcher
from novita_gpu.webhooks.repository import ClaimedDelivery
from tests.conftest import Api
from tests.support.events import add_instance, record
from tests.support.polling import eventually
from tests.support.receiver import HANG, Receiver, status
from tests.webhooks.helpers import attempts, delivery

Start = Callable[[Callable[[], Awaitable[None]]], asyncio.Task[None]]


@pytest.fixture
async def background() -> AsyncIterator[Start]:
    """Start coroutines as tasks; cancel whatever still runs at the end of the test."""
    tasks: list[asyncio.Task[None]] = []

    def start(run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        async def main() -> None:
            await run()

        task = asyncio.create_task(main())
        tasks.append(task)
        return task

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def attempted(api: Api, count: int) -> bool:
    row = await delivery(api.ctx)
    return row.attempt_count >= count and row.lease_owner is None


class TestWakeUps:
    async def test_a_fresh_event_goes_out_without_waiting_for_a_poll(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher, background: Start
    ) -> None:
        background(dispatcher.run_forever)
        instance_id = await add_instance(api.ctx, webhook_url=receiver.url)
        await eventually(lambda: api.clock.pending_sleepers > 0, what="the loop to idle")
        await record(api.ctx, instance_id)
        await receiver.wait_for(1, timeout=2)  # the manual clock never moved: the bus woke it

    async def test_a_retry_goes_out_when_it_comes_due(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher, background: Start
    ) -> None:
        receiver.script(status(503))
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        background(dispatcher.run_forever)
        await eventually(lambda: attempted(api, 1), what="the first attempt")
        row = await delivery(api.ctx)
        api.clock.set(row.next_attempt_at)

        async def retried() -> bool:
            # Keep time moving: the loop may not have parked in its idle wait yet.
            api.clock.advance(dispatcher.poll_seconds)
            return await attempted(api, 2)

        await eventually(retried, what="the retry")
        assert len(receiver.requests) == 2
        assert (await delivery(api.ctx)).status == "succeeded"

    async def test_events_committed_elsewhere_are_found_by_polling(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher, background: Start
    ) -> None:
        background(dispatcher.run_forever)
        await eventually(lambda: api.clock.pending_sleepers > 0, what="the loop to idle")
        instance_id = await add_instance(api.ctx, webhook_url=receiver.url)
        await record(api.ctx, instance_id, notify=False)  # as another replica commits
        await asyncio.sleep(0.05)
        assert receiver.requests == []

        def polled() -> bool:
            api.clock.advance(dispatcher.poll_seconds)
            return len(receiver.requests) >= 1

        await eventually(polled, what="the poll to find the event")


class TestStopping:
    @pytest.mark.parametrize("settings_overrides", [{"webhook_timeout": 30_000}])
    async def test_cancelling_mid_attempt_records_it_and_frees_the_delivery(
        self,
        api: Api,
        receiver: Receiver,
        dispatcher: WebhookDispatcher,
        make_dispatcher: Callable[..., WebhookDispatcher],
        background: Start,
    ) -> None:
        receiver.script(HANG)
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        task = background(dispatcher.run_forever)
        await receiver.wait_for(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        row = await delivery(api.ctx)
        assert (row.status, row.attempt_count, row.lease_owner) == ("pending", 1, None)
        assert row.next_attempt_at == api.clock.now()
        [attempt] = await attempts(api.ctx, row.id)
        assert attempt.outcome == "interrupted"
        assert await make_dispatcher().run_once() == 1
        assert (await delivery(api.ctx)).status == "succeeded"

    async def test_the_app_task_delivers_and_stops_when_cancelled(
        self, api: Api, receiver: Receiver, background: Start
    ) -> None:
        task = background(lambda: run_webhook_dispatcher(api.ctx))
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        await receiver.wait_for(1)
        await eventually(lambda: attempted(api, 1), what="the attempt to be recorded")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def test_the_loop_survives_a_database_error_while_claiming(
        self,
        api: Api,
        receiver: Receiver,
        webhook_http: httpx.AsyncClient,
        background: Start,
    ) -> None:
        dispatcher = FlakyDispatcher(api.ctx, "flaky", webhook_http)
        await record(api.ctx, await add_instance(api.ctx, webhook_url=receiver.url))
        background(dispatcher.run_forever)
        await eventually(lambda: dispatcher.failures == 1 and api.clock.pending_sleepers > 0)
        api.clock.advance(dispatcher.poll_seconds)
        await receiver.wait_for(1)


class FlakyDispatcher(WebhookDispatcher):
    """Its first claim fails as if the database went away."""

    failures = 0

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        if not self.failures:
            self.failures += 1
            raise RuntimeError("database went away")
        return await super().claim(limit)
