"""The asynchronous client: :class:`~novita_gpu.client.Client`'s API with ``await``
(``aclose``, ``async with``, and async iterators for ``iter_instances``/``stream_events``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from novita_gpu.client import _calls as calls
from novita_gpu.client._base import BaseClient
from novita_gpu.client._config import DEFAULT_TIMEOUT, Retries
from novita_gpu.client._ephemeral import AsyncEphemeralInstance, EphemeralOptions
from novita_gpu.client._models import (
    ActionResult,
    AutoStopCheck,
    AutoStopStats,
    CreateResult,
    Event,
    Health,
    HeartbeatResult,
    Instance,
    InstancePage,
    ProductOffer,
    SyncResult,
)
from novita_gpu.client._sse import StreamCursor

T = TypeVar("T")


class AsyncClient(BaseClient):
    """An asynchronous client for the novita-gpu API.

    Pass ``http_client`` to reuse a configured ``httpx.AsyncClient`` (it is not closed by
    :meth:`aclose`), or ``transport`` (``httpx.ASGITransport`` to talk to the app in-process,
    ``httpx.MockTransport``...) to build one around it. ``sleep`` is what retries and polls
    wait with.

    Use it with ``async with``, or call :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(base_url, token=token, timeout=timeout, retries=retries, headers=headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._sleep = sleep

    async def aclose(self) -> None:
        """Close the connection pool (unless it was passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # Transport

    async def _send(self, call: calls.Call[Any]) -> httpx.Response:
        """Send ``call``, retrying as :attr:`retries` allows; the last response is returned."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.send(
                    self._http.build_request(**self.request_args(call))
                )
            except httpx.TransportError as exc:
                delay = self.retry_delay(call, attempt, None)
                if delay is None:
                    raise self.network_error(exc) from exc
            else:
                delay = self.retry_delay(call, attempt, response)
                if delay is None:
                    return response
                await response.aclose()
            await self._sleep(delay)

    async def _run(self, call: calls.Call[T]) -> T:
        return self.result(call, await self._send(call))

    # Service

    async def health(self) -> Health:
        """``GET /health``."""
        return await self._run(calls.health())

    # Cost control

    async def auto_stop_stats(self) -> AutoStopStats:
        """``GET /api/instances/auto-stop/stats``: last and next check, last result, spend."""
        return await self._run(calls.auto_stop_stats())

    async def trigger_auto_stop(self, *, dry_run: bool = True) -> AutoStopCheck:
        """Run an auto-stop check now; a dry run (the default) changes nothing."""
        return await self._run(calls.trigger_auto_stop(dry_run))

    async def sync(self, *, dry_run: bool = False) -> SyncResult:
        """Reconcile every managed instance with Novita now; report what changed."""
        return await self._run(calls.sync(dry_run))

    async def products(
        self,
        product_name: str | None = None,
        billing_mode: str | None = None,
        region: str | None = None,
    ) -> list[ProductOffer]:
        """Offers across regions, in the order create would choose them (cheapest first)."""
        return await self._run(calls.products(product_name, billing_mode, region))

    # Instances

    async def create_instance(
        self,
        name: str,
        product_name: str,
        template_id: str | int,
        *,
        gpu_num: int = 1,
        rootfs_size: int | None = None,
        region: str | None = None,
        regions: Sequence[str] | None = None,
        billing_mode: str | None = None,
        webhook_url: str | None = None,
        max_price_per_hour: float | None = None,
        auto_stop: Mapping[str, Any] | None = None,
        envs: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        health_check: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> CreateResult:
        """Create an instance (``POST /api/instances``); it is ``creating`` on return.

        ``extra`` takes any other create field in snake_case (``spot_recovery``,
        ``max_runtime_minutes``, ``auto_delete``...). An ``Idempotency-Key`` is generated when
        none is given, so a retried create never creates twice. Raises
        :class:`ConflictError` (``NAME_TAKEN``), :class:`NoCapacityError`,
        :class:`NotFoundError` (template/product) or :class:`ValidationError`.
        """
        body = calls.create_body(
            {
                "name": name,
                "product_name": product_name,
                "template_id": template_id,
                "gpu_num": gpu_num,
                "rootfs_size": rootfs_size,
                "region": region,
                "regions": regions,
                "billing_mode": billing_mode,
                "webhook_url": webhook_url,
                "max_price_per_hour": max_price_per_hour,
                "auto_stop": auto_stop,
                "envs": envs,
                "health_check": health_check,
                **extra,
            }
        )
        return await self._run(calls.create_instance(body, idempotency_key))

    async def get_instance(self, instance_id: str, *, include_secrets: bool = False) -> Instance:
        """One instance by local or Novita id; ``include_secrets`` adds the SSH password."""
        return await self._run(calls.get_instance(instance_id, include_secrets))

    async def get_instance_by_name(self, name: str) -> Instance:
        """The live instance called ``name``; :class:`NotFoundError` if there is none."""
        return await self._run(calls.get_instance_by_name(name))

    async def list_instances(
        self,
        *,
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        region: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> InstancePage:
        """One page, newest first. ``name`` ending in ``*`` matches a prefix."""
        return await self._run(calls.list_instances(status, name, region, limit, cursor))

    async def iter_instances(
        self,
        *,
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        region: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Instance]:
        """Every matching instance, page by page (following ``nextCursor``)."""
        cursor: str | None = None
        while True:
            page = await self.list_instances(
                status=status, name=name, region=region, limit=page_size, cursor=cursor
            )
            for instance in page.instances:
                yield instance
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def start_instance(self, instance_id: str) -> ActionResult:
        """Start a stopped or failed instance (202); :class:`ConflictError` if it cannot."""
        return await self._run(calls.action(instance_id, "start"))

    async def stop_instance(self, instance_id: str) -> ActionResult:
        """Stop (202); stopping a stopped instance is a no-op that still succeeds."""
        return await self._run(calls.action(instance_id, "stop"))

    async def delete_instance(self, instance_id: str) -> ActionResult:
        """Delete upstream (202); the server keeps a tombstone."""
        return await self._run(calls.action(instance_id, "delete"))

    async def start_instance_by_name(self, name: str) -> ActionResult:
        return await self._run(calls.action_by_name(name, "start"))

    async def stop_instance_by_name(self, name: str) -> ActionResult:
        return await self._run(calls.action_by_name(name, "stop"))

    async def delete_instance_by_name(self, name: str) -> ActionResult:
        return await self._run(calls.action_by_name(name, "delete"))

    async def heartbeat(
        self, instance_id: str, last_used_at: datetime | str | None = None
    ) -> HeartbeatResult:
        """Mark the instance used (auto-stop's idle clock); ``last_used_at`` defaults to now."""
        return await self._run(calls.heartbeat(instance_id, last_used_at))

    async def heartbeat_by_name(
        self, name: str, last_used_at: datetime | str | None = None
    ) -> HeartbeatResult:
        return await self._run(calls.heartbeat_by_name(name, last_used_at))

    async def instance_events(self, instance_id: str) -> list[Event]:
        """The instance's event history, oldest first."""
        return await self._run(calls.instance_events(instance_id))

    # Waiting

    async def wait_for_status(
        self,
        instance_id: str,
        status: calls.WaitTarget,
        *,
        timeout: float = 600.0,
        poll: float = 60.0,
        on_poll: Callable[[Instance], None] | None = None,
    ) -> Instance:
        """Block until the instance reaches ``status`` (server long-poll, ``poll`` s at most
        per request) and return it. Raises :class:`WaitTimeout` after ``timeout`` seconds and
        :class:`InstanceFailedError` if it ends ``failed``/``terminated``/``deleted``.

        ``on_poll`` sees the instance after each long-poll that did not end the wait (progress
        display); a smaller ``poll`` makes it more frequent."""
        deadline = time.monotonic() + timeout
        while True:
            asked = max(0.0, min(poll, deadline - time.monotonic()))
            started = time.monotonic()
            step = await self._run(calls.wait(instance_id, status, asked))
            remaining = deadline - time.monotonic()
            found = self.wait_verdict(instance_id, status, step, remaining)
            if found is not None:
                return found
            if on_poll is not None:
                on_poll(step.instance)
            await self._sleep(self.poll_pause(asked, time.monotonic() - started, remaining))

    async def wait_for_ready(
        self,
        instance_id: str,
        *,
        timeout: float = 600.0,
        poll: float = 60.0,
        on_poll: Callable[[Instance], None] | None = None,
    ) -> Instance:
        """:meth:`wait_for_status` for ``ready``: every exposed port answers."""
        return await self.wait_for_status(
            instance_id, "ready", timeout=timeout, poll=poll, on_poll=on_poll
        )

    # Ephemeral instances

    def ephemeral_instance(
        self, product: str, template: str | int, **options: Unpack[EphemeralOptions]
    ) -> AsyncEphemeralInstance:
        """An async context manager: create an instance of ``product`` from ``template``,
        wait until it is ready, yield it for ``run``/``put``/``get`` over SSH, and delete it
        on the way out however the block ends (cancellation included). Options:
        :class:`EphemeralOptions`; behaviour: :mod:`novita_gpu.client._ephemeral`."""
        return AsyncEphemeralInstance(self, product, template, **options)

    # Live events

    async def stream_events(
        self,
        last_event_id: str | None = None,
        *,
        instance_id: str | None = None,
        types: Sequence[str] | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Every event from now on (or after ``last_event_id``), as the server commits them;
        only ``instance_id``'s and only ``types`` if given.

        Reconnects after a dropped connection, resuming after the last event seen, as
        :attr:`retries` allows (waiting as long as the server's ``retry:`` asks); a stream that
        keeps failing raises :class:`NetworkError`. Stop by breaking out of the loop.
        """
        cursor = StreamCursor(last_event_id)
        while True:
            args = self.stream_args(cursor.last_event_id, instance_id, types)
            try:
                async with self._http.stream(**args) as response:
                    if not response.is_success:
                        await response.aread()
                        raise self.error(response)
                    async for line in response.aiter_lines():
                        event = cursor.feed(line)
                        if event is not None:
                            yield event
            except httpx.TransportError as exc:
                failure = self.network_error(exc)
            else:
                failure = self.stream_ended()
            delay = cursor.reconnect_delay(self.retries)
            if delay is None:
                raise failure
            await self._sleep(delay)
