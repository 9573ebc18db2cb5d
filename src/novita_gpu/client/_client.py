"""The synchronous client. Every method is one :mod:`~novita_gpu.client._calls` call sent
through :meth:`Client._run` (retries included); see :class:`~novita_gpu.client.AsyncClient`
for the same API with ``await``."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from novita_gpu.client import _calls as calls
from novita_gpu.client._async_client import AsyncClient
from novita_gpu.client._base import BaseClient
from novita_gpu.client._config import DEFAULT_TIMEOUT, Retries
from novita_gpu.client._ephemeral import EphemeralOptions
from novita_gpu.client._ephemeral_sync import EphemeralInstance
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


class Client(BaseClient):
    """A synchronous client for the novita-gpu API.

    Pass ``http_client`` to reuse a configured ``httpx.Client`` (it is not closed by
    :meth:`close`), or ``transport`` (``httpx.MockTransport``, ``httpx.WSGITransport``...) to
    build one around it. ``sleep`` is what retries and polls wait with (tests inject a recorder).

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, token=token, timeout=timeout, retries=retries, headers=headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self._sleep = sleep

    def close(self) -> None:
        """Close the connection pool (unless it was passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Transport

    def _send(self, call: calls.Call[Any]) -> httpx.Response:
        """Send ``call``, retrying as :attr:`retries` allows; the last response is returned."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.send(self._http.build_request(**self.request_args(call)))
            except httpx.TransportError as exc:
                delay = self.retry_delay(call, attempt, None)
                if delay is None:
                    raise self.network_error(exc) from exc
            else:
                delay = self.retry_delay(call, attempt, response)
                if delay is None:
                    return response
                response.close()
            self._sleep(delay)

    def _run(self, call: calls.Call[T]) -> T:
        return self.result(call, self._send(call))

    # Service

    def health(self) -> Health:
        """``GET /health``."""
        return self._run(calls.health())

    # Cost control

    def auto_stop_stats(self) -> AutoStopStats:
        """``GET /api/instances/auto-stop/stats``: last and next check, last result, spend."""
        return self._run(calls.auto_stop_stats())

    def trigger_auto_stop(self, *, dry_run: bool = True) -> AutoStopCheck:
        """Run an auto-stop check now; a dry run (the default) changes nothing."""
        return self._run(calls.trigger_auto_stop(dry_run))

    def sync(self, *, dry_run: bool = False) -> SyncResult:
        """Reconcile every managed instance with Novita now; report what changed."""
        return self._run(calls.sync(dry_run))

    def products(
        self,
        product_name: str | None = None,
        billing_mode: str | None = None,
        region: str | None = None,
    ) -> list[ProductOffer]:
        """Offers across regions, in the order create would choose them (cheapest first)."""
        return self._run(calls.products(product_name, billing_mode, region))

    # Instances

    def create_instance(
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
        return self._run(calls.create_instance(body, idempotency_key))

    def get_instance(self, instance_id: str, *, include_secrets: bool = False) -> Instance:
        """One instance by local or Novita id; ``include_secrets`` adds the SSH password."""
        return self._run(calls.get_instance(instance_id, include_secrets))

    def get_instance_by_name(self, name: str) -> Instance:
        """The live instance called ``name``; :class:`NotFoundError` if there is none."""
        return self._run(calls.get_instance_by_name(name))

    def list_instances(
        self,
        *,
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        region: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> InstancePage:
        """One page, newest first. ``name`` ending in ``*`` matches a prefix."""
        return self._run(calls.list_instances(status, name, region, limit, cursor))

    def iter_instances(
        self,
        *,
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        region: str | None = None,
        page_size: int = 100,
    ) -> Iterator[Instance]:
        """Every matching instance, page by page (following ``nextCursor``)."""
        cursor: str | None = None
        while True:
            page = self.list_instances(
                status=status, name=name, region=region, limit=page_size, cursor=cursor
            )
            yield from page.instances
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def start_instance(self, instance_id: str) -> ActionResult:
        """Start a stopped or failed instance (202); :class:`ConflictError` if it cannot."""
        return self._run(calls.action(instance_id, "start"))

    def stop_instance(self, instance_id: str) -> ActionResult:
        """Stop (202); stopping a stopped instance is a no-op that still succeeds."""
        return self._run(calls.action(instance_id, "stop"))

    def delete_instance(self, instance_id: str) -> ActionResult:
        """Delete upstream (202); the server keeps a tombstone."""
        return self._run(calls.action(instance_id, "delete"))

    def start_instance_by_name(self, name: str) -> ActionResult:
        return self._run(calls.action_by_name(name, "start"))

    def stop_instance_by_name(self, name: str) -> ActionResult:
        return self._run(calls.action_by_name(name, "stop"))

    def delete_instance_by_name(self, name: str) -> ActionResult:
        return self._run(calls.action_by_name(name, "delete"))

    def heartbeat(
        self, instance_id: str, last_used_at: datetime | str | None = None
    ) -> HeartbeatResult:
        """Mark the instance used (auto-stop's idle clock); ``last_used_at`` defaults to now."""
        return self._run(calls.heartbeat(instance_id, last_used_at))

    def heartbeat_by_name(
        self, name: str, last_used_at: datetime | str | None = None
    ) -> HeartbeatResult:
        return self._run(calls.heartbeat_by_name(name, last_used_at))

    def instance_events(self, instance_id: str) -> list[Event]:
        """The instance's event history, oldest first."""
        return self._run(calls.instance_events(instance_id))

    # Waiting

    def wait_for_status(
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
            step = self._run(calls.wait(instance_id, status, asked))
            remaining = deadline - time.monotonic()
            found = self.wait_verdict(instance_id, status, step, remaining)
            if found is not None:
                return found
            if on_poll is not None:
                on_poll(step.instance)
            self._sleep(self.poll_pause(asked, time.monotonic() - started, remaining))

    def wait_for_ready(
        self,
        instance_id: str,
        *,
        timeout: float = 600.0,
        poll: float = 60.0,
        on_poll: Callable[[Instance], None] | None = None,
    ) -> Instance:
        """:meth:`wait_for_status` for ``ready``: every exposed port answers."""
        return self.wait_for_status(
            instance_id, "ready", timeout=timeout, poll=poll, on_poll=on_poll
        )

    # Ephemeral instances

    def ephemeral_instance(
        self, product: str, template: str | int, **options: Unpack[EphemeralOptions]
    ) -> EphemeralInstance:
        """A context manager: create an instance of ``product`` from ``template``, wait until
        it is ready, yield it for ``run``/``put``/``get`` over SSH, and delete it on the way
        out however the block ends. Options: :class:`EphemeralOptions`; behaviour:
        :mod:`novita_gpu.client._ephemeral`.

        It runs the async client on a private event loop thread, built with this client's
        URL, token, timeout, retries and headers (not its ``http_client``/``transport``).
        """
        return EphemeralInstance(self._async_twin, product, template, **options)

    def _async_twin(self) -> AsyncClient:
        return AsyncClient(
            self.base_url,
            token=self.token,
            timeout=self.timeout,
            retries=self.retries,
            headers=self.headers,
        )

    # Live events

    def stream_events(
        self,
        last_event_id: str | None = None,
        *,
        instance_id: str | None = None,
        types: Sequence[str] | None = None,
    ) -> Generator[Event, None, None]:
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
                with self._http.stream(**args) as response:
                    if not response.is_success:
                        response.read()
                        raise self.error(response)
                    for line in response.iter_lines():
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
            self._sleep(delay)
