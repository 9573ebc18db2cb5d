"""The webhook outbox worker: claims due deliveries, sends them, records every attempt.

Any number of dispatchers (tasks, processes, replicas) may share one database: deliveries are
claimed under a lease (:meth:`DeliveryRepository.claim_due`), so none is sent by two at once,
and a dead dispatcher's leases expire and are taken over. Per instance and target, a delivery
waits until every earlier one is finished; different instances proceed concurrently, at most
``concurrency`` attempts at a time per dispatcher.

An attempt is three steps: *send* (sign and POST, :mod:`~novita_gpu.webhooks.sender`),
*decide* (:func:`~novita_gpu.webhooks.policy.decide`) and *record*. The record is committed
by the dispatcher itself in its own short transaction, whatever happened during the send:
this is the deliberate exception to "services never commit" (STYLE.md, "What not to copy" 5),
so an attempt that happened is visible even when sending raised or was cancelled.

The idle loop wakes on the in-process event bus (a fresh event goes out within milliseconds),
on a finished attempt (the next delivery of that instance may go), and every
``poll_seconds`` (events committed by other replicas, retries coming due).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog

from novita_gpu.context import AppContext
from novita_gpu.core.batching import Batcher
from novita_gpu.core.tasks import cancel_and_wait
from novita_gpu.core.tls import client_ssl_context
from novita_gpu.instances.views import redact_url
from novita_gpu.webhooks.policy import Decision, RetryPolicy, SendResult, decide
from novita_gpu.webhooks.repository import AttemptRecord, ClaimedDelivery, DeliveryRepository
from novita_gpu.webhooks.sender import WebhookSender
from novita_gpu.webhooks.signing import Signer, WebhookMessage
from novita_gpu.webhooks.states import AttemptOutcome, DeliveryStatus

DEFAULT_CONCURRENCY = 16
POLL_SECONDS = 1.0
RECORD_BATCH = DEFAULT_CONCURRENCY
RESTART_PAUSE_SECONDS = 1.0
_METRIC_OUTCOME = {
    DeliveryStatus.SUCCEEDED: "succeeded",
    DeliveryStatus.PENDING: "retrying",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.DELIVERING: "delivering",
}

_log = structlog.get_logger("webhooks")


def new_owner_id() -> str:
    """Identifies one dispatcher in lease columns: host, pid and a random suffix."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:wh-{uuid.uuid4().hex[:8]}"


class WebhookDispatcher:
    """Sends the outbox of ``ctx``'s database as lease ``owner``, over ``http``."""

    def __init__(
        self,
        ctx: AppContext,
        owner: str,
        http: httpx.AsyncClient,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        poll_seconds: float = POLL_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        settings = ctx.settings
        secret = settings.webhook_secret
        timeout = settings.webhook_timeout / 1000
        self.ctx = ctx
        self.owner = owner
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.policy = RetryPolicy.from_settings(settings)
        self.signer = Signer(secret.get_secret_value() if secret else None)
        self.sender = WebhookSender(http, ctx.clock, timeout, settings.private_targets_allowed)
        # Renewed every third of it while the attempt runs, so a dead dispatcher's deliveries
        # are taken over within WEBHOOK_LEASE_SECONDS.
        self.lease = timedelta(seconds=settings.webhook_lease_seconds)
        self._rng = rng or random.Random()
        self._finished = asyncio.Event()
        # Attempts that end together are recorded in one transaction (group commit).
        self._records: Batcher[tuple[ClaimedDelivery, AttemptRecord], bool] = Batcher(
            self._store_records, size=RECORD_BATCH, key=lambda item: item[0].id
        )

    async def run_once(self) -> int:
        """Claim up to ``concurrency`` due deliveries, attempt them all; how many were tried."""
        claimed = await self.claim(self.concurrency)
        outcomes = await asyncio.gather(
            *(self.attempt(delivery) for delivery in claimed), return_exceptions=True
        )
        for outcome in outcomes:  # only after every attempt finished
            if isinstance(outcome, BaseException):
                raise outcome
        return len(claimed)

    async def run_forever(self) -> None:
        """Keep up to ``concurrency`` attempts in flight until cancelled.

        On cancellation, attempts in flight are cancelled too (each records itself as
        interrupted, so its delivery is due again at once for whoever runs next).
        """
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._finished.clear()
                seen = self.ctx.bus.generation
                await self._fill(in_flight)
                await self._idle(seen)
        finally:
            await cancel_and_wait(in_flight)

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries (committed before returning)."""
        async with self.ctx.db.write() as session, session.begin():
            repository = DeliveryRepository(session)
            return await repository.claim_due(self.owner, self.ctx.clock.now(), self.lease, limit)

    async def attempt(self, delivery: ClaimedDelivery) -> None:
        """Send ``delivery`` once, then record the attempt and the delivery's next state."""
        started_at = self.ctx.clock.now()
        renewer = asyncio.create_task(self._keep_lease(delivery))
        try:
            result = await self._send(delivery, started_at)
        except asyncio.CancelledError:
            await self._record_interrupted(delivery, started_at)
            raise
        except Exception as exc:
            _log.exception("webhook attempt crashed", delivery_id=delivery.id)
            error = f"internal error: {type(exc).__name__}: {exc}"
            result = SendResult(AttemptOutcome.ERROR, duration_ms=0, error=error)
        finally:
            await cancel_and_wait([renewer])
        await self._record(delivery, started_at, result)

    async def _keep_lease(self, delivery: ClaimedDelivery) -> None:
        """Renew the lease every third of its length until cancelled or lost."""
        every = self.lease.total_seconds() / 3
        while True:
            await self.ctx.clock.sleep(every)
            # Shielded: cancelling a statement mid-flight can wedge the connection; a renewal
            # that lands after the attempt was recorded matches no row and changes nothing.
            if not await asyncio.shield(self._renew(delivery)):
                _log.warning("webhook lease lost mid-attempt", delivery_id=delivery.id)
                return

    async def _renew(self, delivery: ClaimedDelivery) -> bool:
        async with self.ctx.db.write() as session, session.begin():
            until = self.ctx.clock.now() + self.lease
            return await DeliveryRepository(session).renew(delivery.id, self.owner, until)

    async def _fill(self, in_flight: set[asyncio.Task[None]]) -> None:
        free = self.concurrency - len(in_flight)
        if free <= 0:
            return
        try:
            claimed = await self.claim(free)
        except Exception:
            _log.exception("claiming webhook deliveries failed")
            return
        for delivery in claimed:
            task = asyncio.create_task(self.attempt(delivery), name=f"webhook:{delivery.id}")
            in_flight.add(task)
            task.add_done_callback(lambda done: self._on_done(in_flight, done))

    def _on_done(self, in_flight: set[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        self._finished.set()
        if not task.cancelled() and task.exception() is not None:
            _log.error("webhook attempt failed to record", exc_info=task.exception())

    async def _idle(self, seen: int) -> None:
        """Until the bus signals a commit, an attempt finishes, or ``poll_seconds`` pass."""
        waits: set[asyncio.Future[Any]] = {
            asyncio.ensure_future(self.ctx.bus.wait(self.poll_seconds, since=seen)),
            asyncio.ensure_future(self._finished.wait()),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(waits)

    async def _send(self, delivery: ClaimedDelivery, started_at: datetime) -> SendResult:
        body = delivery.payload.encode("utf-8")
        message = WebhookMessage(
            delivery.id, delivery.event_id, delivery.event_type, body, started_at
        )
        return await self.sender.send(delivery.url, self.signer.headers(message), body)

    async def _record_interrupted(self, delivery: ClaimedDelivery, started_at: datetime) -> None:
        result = SendResult(
            AttemptOutcome.INTERRUPTED, duration_ms=0, error="dispatcher stopped mid-attempt"
        )
        # Shielded: the task is being cancelled, but releasing the lease must still happen.
        with contextlib.suppress(Exception):
            await asyncio.shield(self._record(delivery, started_at, result))

    async def _record(
        self, delivery: ClaimedDelivery, started_at: datetime, result: SendResult
    ) -> None:
        now = self.ctx.clock.now()
        decision = decide(
            result,
            attempt_number=delivery.attempt_count + 1,
            queued_at=delivery.queued_at,
            now=now,
            policy=self.policy,
            rng=self._rng,
        )
        record = _attempt_record(result, decision, started_at, now)
        kept = await self._records.submit((delivery, record))
        self._observe(delivery, decision, now)
        _log_attempt(delivery, result, decision, kept)

    async def _store_records(
        self, records: list[tuple[ClaimedDelivery, AttemptRecord]]
    ) -> list[bool]:
        """Store attempts in one transaction; per attempt, whether this dispatcher still held
        its delivery (see :meth:`DeliveryRepository.record_attempt`)."""
        async with self.ctx.db.write() as session, session.begin():
            repository = DeliveryRepository(session)
            return [
                await repository.record_attempt(delivery, self.owner, record)
                for delivery, record in records
            ]

    def _observe(self, delivery: ClaimedDelivery, decision: Decision, now: datetime) -> None:
        metrics = self.ctx.metrics
        metrics.webhook_deliveries.labels(_METRIC_OUTCOME[decision.status]).inc()
        if decision.status is DeliveryStatus.SUCCEEDED:
            latency = (now - delivery.event_created_at).total_seconds()
            metrics.event_to_webhook.observe(max(0.0, latency))


def _attempt_record(
    result: SendResult, decision: Decision, started_at: datetime, finished_at: datetime
) -> AttemptRecord:
    return AttemptRecord(
        started_at=started_at,
        finished_at=finished_at,
        duration_ms=result.duration_ms,
        outcome=result.outcome.value,
        status_code=result.status_code,
        error=result.error,
        response_excerpt=result.response_excerpt,
        status=decision.status,
        next_attempt_at=decision.next_attempt_at,
        last_error=decision.error,
    )


def _log_attempt(
    delivery: ClaimedDelivery, result: SendResult, decision: Decision, kept: bool
) -> None:
    fields = {
        "delivery_id": delivery.id,
        "event_id": delivery.event_id,
        "url": redact_url(delivery.url),
        "outcome": result.outcome.value,
        "status_code": result.status_code,
        "delivery_status": decision.status.value,
    }
    if not kept:
        _log.warning("webhook lease lost before the attempt was recorded", **fields)
    elif decision.status is DeliveryStatus.FAILED:
        _log.warning("webhook delivery failed", error=decision.error, **fields)
    elif decision.status is DeliveryStatus.PENDING:
        _log.info("webhook attempt failed; retry scheduled", error=decision.error, **fields)
    else:
        _log.debug("webhook delivered", **fields)


def webhook_http_client(
    ctx: AppContext, concurrency: int = DEFAULT_CONCURRENCY
) -> httpx.AsyncClient:
    """The dispatcher's own HTTP client: bounded connections, no redirects."""
    timeout = ctx.settings.webhook_timeout / 1000
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        timeout=timeout, limits=limits, follow_redirects=False, verify=client_ssl_context()
    )


async def run_webhook_dispatcher(ctx: AppContext) -> None:
    """Run one dispatcher for ``ctx`` until cancelled: the app's background task.

    Builds its own HTTP client and owner id. An unexpected failure is logged and the
    dispatcher restarts after a short pause; cancellation stops it (in-flight attempts are
    recorded as interrupted).
    """
    async with webhook_http_client(ctx) as http:
        dispatcher = WebhookDispatcher(ctx, new_owner_id(), http)
        while True:
            try:
                await dispatcher.run_forever()
            except Exception:
                _log.exception("webhook dispatcher crashed; restarting")
                await ctx.clock.sleep(RESTART_PAUSE_SECONDS)
