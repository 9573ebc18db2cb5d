"""Readiness: after upstream says ``running``, probe the exposed ports until they answer.

``running`` -> ``health_checking`` -> ``ready``, or ``failed`` once ``maxWaitTimeMs`` has
passed with the last probe results in ``lastError`` and ``healthCheck``. Between rounds the
instance waits ``retryDelayMs`` (see :meth:`ProbeConfig.delay_after`; a fresh instance's first
retries come sooner). Each instance keeps its own schedule: the job wakes when the earliest
next round is due, and status sync wakes it when it records an instance ``running``, so a
round does not wait for the job's next tick. Instances are claimed with leases, so replicas
never probe the same instance at once.
An instance without HTTP ports (and no ``healthCheck.targetPort``) is ready at once with
``healthCheck.status: skipped``.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_

from novita_gpu.core.config import Settings
from novita_gpu.db.models import Instance
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.snapshot import apply_snapshot
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import GroupedUpdates, UnitOfWork
from novita_gpu.instances.views import connection_details, iso
from novita_gpu.reconciler.probes import Guard, ProbeResult, probe_http, probe_tcp
from novita_gpu.reconciler.runner import JobContext
from novita_gpu.upstream import UpstreamError, UpstreamInstance

JOB_NAME = "readiness"
BATCH = 200
CONCURRENCY = 32
_MAX_DELAY_SECONDS = 30.0
FIRST_RETRY_SECONDS = 0.25
"""A fresh instance's first retry; the next ones double until they reach ``retryDelayMs``."""
MIN_WAKE_SECONDS = 0.2
"""Rounds due closer together than this share one run of the job."""
_PROBED = (Status.RUNNING.value, Status.HEALTH_CHECKING.value)


@dataclass(frozen=True)
class ProbeConfig:
    """An instance's health-check settings over the server defaults."""

    enabled: bool
    target_port: int | None
    timeout_s: float
    retry_attempts: int
    retry_delay_s: float
    max_wait_s: float

    @classmethod
    def resolve(cls, settings: Settings, given: dict[str, Any]) -> ProbeConfig:
        return cls(
            enabled=bool(given.get("enabled", True)),
            target_port=given.get("targetPort"),
            timeout_s=given.get("timeoutMs", settings.health_check_timeout_ms) / 1000,
            retry_attempts=given.get("retryAttempts", settings.health_check_retry_attempts),
            retry_delay_s=given.get("retryDelayMs", settings.health_check_retry_delay_ms) / 1000,
            max_wait_s=given.get("maxWaitTimeMs", settings.health_check_max_wait_time_ms) / 1000,
        )

    def delay_after(self, round_number: int) -> float:
        """Delay before the next round (rounds count from 1), jittered by +-25 %.

        A fresh instance's application often answers within a second or two of ``running``,
        so the first retries ramp up: 0.25 s, 0.5 s, 1 s, ... doubling while below ``retryDelayMs``.
        Then ``retryAttempts`` rounds wait ``retryDelayMs`` each, as the original service did;
        after that the delay doubles per round (capped), so a slow boot costs few probes.
        """
        ramp = self._ramp_rounds()
        if round_number <= ramp:
            base = FIRST_RETRY_SECONDS * float(2 ** (round_number - 1))
        else:
            exponent = max(0, round_number - ramp - max(self.retry_attempts, 1))
            base = min(_MAX_DELAY_SECONDS, self.retry_delay_s * float(2**exponent))
        return base * random.uniform(0.75, 1.25)

    def _ramp_rounds(self) -> int:
        """How many ramp-up delays (0.25 s, 0.5 s, ...) are shorter than ``retryDelayMs``."""
        rounds, delay = 0, FIRST_RETRY_SECONDS
        while delay < self.retry_delay_s:
            rounds, delay = rounds + 1, delay * 2
        return rounds


def probe_targets(instance: Instance, config: ProbeConfig) -> list[dict[str, Any]]:
    """The port mappings to probe: every http(s) one, or only ``targetPort``."""
    mappings = list(instance.port_mappings or [])
    if config.target_port is not None:
        return [m for m in mappings if m.get("port") == config.target_port] or [
            {"port": config.target_port, "type": "http", "endpoint": None}
        ]
    return [m for m in mappings if m.get("type") in {"http", "https"}]


def _needs_details(instance: Instance) -> bool:
    mappings = instance.port_mappings or []
    return not instance.connection or any(not m.get("endpoint") for m in mappings)


async def _probe(job: JobContext, target: dict[str, Any], config: ProbeConfig) -> ProbeResult:
    port, endpoint = int(target["port"]), target.get("endpoint")
    guard = probe_guard(job.ctx.settings)
    if target.get("type") == "tcp":
        return await probe_tcp(port, endpoint, config.timeout_s, guard)
    return await probe_http(job.probe_http, port, endpoint, config.timeout_s, guard)


def probe_guard(settings: Settings) -> Guard:
    """Probes follow the private-network rule of webhooks; the embedded emulator's ports are
    on this machine by design, so in emulator mode they are always allowed."""
    return Guard(private_ok=settings.private_targets_allowed or settings.emulator_mode)


@dataclass
class Round:
    """One probing round's findings for one instance."""

    config: ProbeConfig
    results: list[ProbeResult]
    snapshot: UpstreamInstance | None
    targets_known: bool


async def _run_round(job: JobContext, instance: Instance) -> Round:
    config = ProbeConfig.resolve(job.ctx.settings, instance.health_check_config or {})
    snapshot = None
    if _needs_details(instance) and instance.novita_instance_id:
        try:
            snapshot = await job.ctx.upstream.get_instance(instance.novita_instance_id)
            apply_snapshot(instance, snapshot, detailed=True)
        except UpstreamError:
            snapshot = None
    targets = probe_targets(instance, config) if config.enabled else []
    results = list(await asyncio.gather(*(_probe(job, t, config) for t in targets)))
    return Round(config, results, snapshot, bool(targets))


def _started_at(instance: Instance, now: datetime) -> datetime:
    started = (instance.health_check or {}).get("startedAt")
    return datetime.fromisoformat(started.replace("Z", "+00:00")) if started else now


async def _record_round(uow: UnitOfWork, instance: Instance, found: Round) -> None:
    if instance.status not in _PROBED:
        return  # stopped, deleted or failed meanwhile: the round no longer matters
    now = uow.recorder.clock.now()
    if found.snapshot is not None:
        apply_snapshot(instance, found.snapshot, detailed=True)
    if instance.status == Status.RUNNING.value:
        instance.health_check = {
            "status": "checking",
            "startedAt": iso(now),
            "rounds": 0,
            "endpoints": [],
        }
        await change_status(uow.recorder, instance, Status.HEALTH_CHECKING)
    await _conclude(uow, instance, found, now)


async def _conclude(uow: UnitOfWork, instance: Instance, found: Round, now: datetime) -> None:
    state = dict(instance.health_check or {})
    rounds = int(state.get("rounds", 0)) + 1
    endpoints = [result.as_json() for result in found.results]
    base = {**state, "rounds": rounds, "checkedAt": iso(now), "endpoints": endpoints}
    if not found.targets_known:
        instance.health_check = {**base, "status": "skipped"}
        await _ready(uow, instance)
    elif all(result.healthy for result in found.results):
        instance.health_check = {**base, "status": "healthy"}
        await _ready(uow, instance)
    elif now - _started_at(instance, now) >= timedelta(seconds=found.config.max_wait_s):
        instance.health_check = {**base, "status": "failed"}
        await change_status(
            uow.recorder,
            instance,
            Status.FAILED,
            error=_failure_text(found.results),
            data={"healthCheck": instance.health_check},
        )
    else:
        healthy = any(result.healthy for result in found.results)
        instance.health_check = {**base, "status": "partial" if healthy else "unhealthy"}
        instance.next_probe_at = now + timedelta(seconds=found.config.delay_after(rounds))


async def _ready(uow: UnitOfWork, instance: Instance) -> None:
    data = {"connectionDetails": connection_details(instance), "healthCheck": instance.health_check}
    await change_status(uow.recorder, instance, Status.READY, data=data)


def _failure_text(results: list[ProbeResult]) -> str:
    problems = [f"port {r.port}: {r.error}" for r in results if not r.healthy]
    return "Readiness check timed out; " + "; ".join(problems)


async def _probe_instance(job: JobContext, instance: Instance, writes: GroupedUpdates) -> None:
    found = await _run_round(job, instance)

    async def change(uow: UnitOfWork, row: Instance) -> None:
        await _record_round(uow, row, found)
        await uow.instances.release([row.id], job.owner)

    row = await writes.apply(instance.id, change)
    if row is not None and row.status in _PROBED and row.next_probe_at is not None:
        # This instance's next round, on its own schedule rather than the job's next tick.
        wait = (row.next_probe_at - job.ctx.clock.now()).total_seconds()
        job.wake_after(max(MIN_WAKE_SECONDS, wait))


async def probe_ready(job: JobContext) -> None:
    """One readiness tick: claim due instances and probe them concurrently, and ask to run
    again when the next waiting instance is due (each instance's own request for that may
    have lost to an earlier one: :meth:`JobContext.wake_after` keeps the earliest)."""
    ctx = job.ctx
    now = ctx.clock.now()
    due = Instance.status.in_(_PROBED) & or_(
        Instance.next_probe_at.is_(None), Instance.next_probe_at <= now
    )
    async with ctx.db.write() as session, session.begin():
        repository = InstanceRepository(session)
        ids = await repository.claim(
            due, owner=job.owner, now=now, hold=timedelta(minutes=2), limit=BATCH
        )
        upcoming = await repository.earliest_probe_after(_PROBED, now)
    if ids:
        await _probe_claimed(job, ids)
    if upcoming is not None:
        job.wake_after(max(MIN_WAKE_SECONDS, (upcoming - now).total_seconds()))


async def _probe_claimed(job: JobContext, ids: list[str]) -> None:
    """Start a round for each claimed instance; each records its own outcome when done, so
    a slow one holds up nobody (its lease keeps other runs and replicas off it). Rounds that
    end together are recorded in one transaction."""
    ctx = job.ctx
    async with ctx.db.read() as session:
        instances = list(await InstanceRepository(session).get_many(ids))
    limit = asyncio.Semaphore(CONCURRENCY)
    writes = GroupedUpdates(ctx)

    async def bounded(instance: Instance) -> None:
        async with limit:
            await _probe_instance(job, instance, writes)

    for instance in instances:
        job.spawn(bounded(instance))
