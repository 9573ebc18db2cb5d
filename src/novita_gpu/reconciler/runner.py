"""The background runner: one asyncio task per periodic job, all on the injected clock.

Each job is a small named function (:class:`Job`). Before a run, the runner claims the job's
lease in the database, so with several replicas each job runs once per interval; after the run
it records the duration and any error (the heartbeat ``/health`` reads). A job's exception is
recorded, never fatal to the loop, and counted in ``novita_gpu_job_errors_total{job}``. It is
logged with the job's name once per change of state: the first failure (with a traceback
unless it is an upstream failure, which says all there is to say), a different failure, and
the recovery. A job failing the same way every tick logs nothing more. A failure of the
runner's own lease bookkeeping is logged and counted the same way.

A job runs again after its interval, or sooner when woken: by another part of the process
(:meth:`Runner.wake`, e.g. status sync after it records an instance ``running``) or by itself
(``JobContext.wake_after``, e.g. readiness when its next probe is due before the interval).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import structlog

from novita_gpu.context import AppContext
from novita_gpu.core.clock import sleep_unless
from novita_gpu.core.tls import client_ssl_context
from novita_gpu.reconciler.leases import JOB_PREFIX, LeaseRepository
from novita_gpu.upstream import UpstreamCircuitOpen, UpstreamError

_log = structlog.get_logger("reconciler")


def new_owner_id() -> str:
    """Identifies this process in lease columns: host, pid and a random suffix."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class JobContext:
    """What a job run gets: the app context, this process's lease owner id, a probe client;
    ``wake_after(seconds)``: run this job again that soon, not only at its interval;
    ``spawn(work)``: go on with ``work`` after the run returns (per-item work that should not
    hold up the job's next run). Spawned work is stopped with the runner; its failures are
    logged and counted as the job's; :meth:`Runner.run_once` waits for it."""

    ctx: AppContext
    owner: str
    probe_http: httpx.AsyncClient
    wake_after: Callable[[float], None]
    spawn: Callable[[Coroutine[Any, Any, None]], None]


# A run holds its job's lease this long and renews it while it runs, so a crashed replica's
# jobs are picked up by another within this time.
MIN_LEASE_HOLD = timedelta(seconds=10)

# How long stop() waits for cancelled tasks before giving up on them.
STOP_TIMEOUT_SECONDS = 5.0


def _where(task: asyncio.Task[None]) -> str:
    """The innermost frame ``task`` is suspended in, as ``file:line function``."""
    frames = task.get_stack()
    if not frames:
        return "unknown"
    frame = frames[-1]
    return f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"


@dataclass(frozen=True)
class Job:
    """A periodic job. ``interval`` is seconds between runs (across all replicas)."""

    name: str
    interval: float
    run: Callable[[JobContext], Awaitable[None]]

    @property
    def lease_hold(self) -> timedelta:
        return max(MIN_LEASE_HOLD, timedelta(seconds=self.interval * 3))


class Runner:
    """Runs ``jobs`` until stopped; ``extra_tasks`` (e.g. the webhook dispatcher) alongside."""

    def __init__(
        self,
        ctx: AppContext,
        jobs: Sequence[Job],
        extra_tasks: Sequence[Callable[[AppContext], Coroutine[Any, Any, None]]] = (),
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
    ) -> None:
        self.ctx = ctx
        self.stop_timeout = stop_timeout
        self.jobs = {job.name: job for job in jobs}
        self.extra_tasks = extra_tasks
        self.owner = new_owner_id()
        self.probe_http = httpx.AsyncClient(
            follow_redirects=False, trust_env=False, verify=client_ssl_context()
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._failing: dict[str, str] = {}
        """Job name -> the failure it is in, for logging state changes only."""
        self._wakes = {name: asyncio.Event() for name in self.jobs}
        self._alarms: dict[str, tuple[float, asyncio.Task[None]]] = {}
        """Job name -> (clock.monotonic() deadline, task) of its pending :meth:`wake_after`."""
        self._spawned: set[asyncio.Task[None]] = set()
        self._stopping = False

    def job_context(self, job: Job, spawned: list[asyncio.Task[None]]) -> JobContext:
        """The context of one run of ``job``; work it spawns is appended to ``spawned``."""
        wake_after = partial(self.wake_after, job.name)
        return JobContext(
            self.ctx, self.owner, self.probe_http, wake_after, partial(self._spawn, job, spawned)
        )

    def _spawn(
        self, job: Job, spawned: list[asyncio.Task[None]], work: Coroutine[Any, Any, None]
    ) -> None:
        if self._stopping:
            # A run finishing as the runner stops must not leave work behind that outlives
            # the database it writes to (its session would open a connection nobody closes).
            work.close()
            return
        task = asyncio.create_task(work, name=f"job:{job.name}:item")
        self._spawned.add(task)
        spawned.append(task)
        task.add_done_callback(partial(self._spawned_done, job))

    def _spawned_done(self, job: Job, task: asyncio.Task[None]) -> None:
        self._spawned.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        _log.error("job item failed", job=job.name, exc_info=error)
        self.ctx.metrics.job_errors.labels(job.name).inc()

    def wake(self, name: str) -> None:
        """Run the named job as soon as its current run (if any) ends, instead of at its next
        interval. Another replica holding the job's lease still wins: the run is skipped."""
        if name in self._wakes:
            self._wakes[name].set()

    def wake_after(self, name: str, seconds: float) -> None:
        """:meth:`wake` the job in ``seconds`` (on the clock); the earliest request wins."""
        if self._stopping:
            return
        deadline = self.ctx.clock.monotonic() + seconds
        pending = self._alarms.get(name)
        if pending is not None and not pending[1].done():
            if pending[0] <= deadline:
                return
            pending[1].cancel()
        self._alarms[name] = (deadline, asyncio.create_task(self._alarm(name, seconds)))

    async def _alarm(self, name: str, seconds: float) -> None:
        await self.ctx.clock.sleep(seconds)
        self.wake(name)

    def start(self) -> None:
        for job in self.jobs.values():
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job:{job.name}"))
        for task in self.extra_tasks:
            self._tasks.append(asyncio.create_task(task(self.ctx), name=task.__name__))

    async def stop(self) -> None:
        """Cancel every task and wait for them, at most ``stop_timeout`` seconds in total.

        Shutdown must stay bounded: a task that does not finish in time is logged by name
        (with where it is stuck) and left behind rather than hanging the process. Nothing is
        spawned or scheduled once stopping began.
        """
        self._stopping = True
        for _, alarm in self._alarms.values():
            alarm.cancel()
        self._alarms.clear()
        self._tasks.extend(self._spawned)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=self.stop_timeout)
            for task in pending:
                _log.warning(
                    "background task did not stop in time",
                    task=task.get_name(),
                    stack=_where(task),
                )
        self._tasks.clear()
        await self.probe_http.aclose()

    async def run_once(self, name: str) -> bool:
        """Claim and run one job now (tests, manual triggers), with the work it spawns; False
        if another holds it."""
        spawned: list[asyncio.Task[None]] = []
        ran = await self._tick(self.jobs[name], force=True, spawned=spawned)
        if spawned:
            await asyncio.wait(spawned)
        return ran

    async def _loop(self, job: Job) -> None:
        wake = self._wakes[job.name]
        while True:
            woken = wake.is_set()
            wake.clear()
            try:
                await self._tick(job, force=woken)
            except Exception:
                self._failed(job, "job lease bookkeeping failed")
            await self._pause(job, wake)

    async def _pause(self, job: Job, wake: asyncio.Event) -> None:
        """The job's interval on the clock, cut short by :meth:`wake`."""
        if not wake.is_set():
            await sleep_unless(self.ctx.clock, job.interval, wake)

    def _failed(self, job: Job, message: str) -> None:
        """Log the exception being handled once, with the job's name, and count it."""
        _log.exception(message, job=job.name)
        self.ctx.metrics.job_errors.labels(job.name).inc()

    async def _tick(
        self, job: Job, *, force: bool = False, spawned: list[asyncio.Task[None]] | None = None
    ) -> bool:
        if not await self._claim(job, force):
            return False
        started = time.perf_counter()
        error: str | None = None
        renewer = asyncio.create_task(self._keep_lease(job))
        try:
            await job.run(self.job_context(job, [] if spawned is None else spawned))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.ctx.metrics.job_errors.labels(job.name).inc()
            # An open breaker logs once per state change itself, not once per tick here.
            if not isinstance(exc, UpstreamCircuitOpen):
                self._log_failure(job.name, exc, error)
        else:
            self._log_recovery(job.name)
        finally:
            renewer.cancel()
        elapsed = time.perf_counter() - started
        self.ctx.metrics.reconcile_tick.labels(job.name).observe(elapsed)
        await self._finish(job, int(elapsed * 1000), error)
        return True

    def _log_failure(self, name: str, exc: Exception, error: str) -> None:
        """Log a failure only when the job was not already failing this way."""
        kind = type(exc).__name__
        if self._failing.get(name) == kind:
            return
        self._failing[name] = kind
        if isinstance(exc, UpstreamError):
            _log.warning("job failing", job=name, error=error)
        else:
            _log.exception("job failed", job=name)

    def _log_recovery(self, name: str) -> None:
        if self._failing.pop(name, None) is not None:
            _log.info("job recovered", job=name)

    async def _claim(self, job: Job, force: bool) -> bool:
        now = self.ctx.clock.now()
        name = JOB_PREFIX + job.name
        async with self.ctx.db.write() as session, session.begin():
            leases = LeaseRepository(session)
            claim = partial(
                leases.claim, name, self.owner, now, job.interval, job.lease_hold, force=force
            )
            # The row exists after a job's first run, so it is only looked for when missing.
            return await claim() or (await leases.ensure(name, job.interval) and await claim())

    async def _keep_lease(self, job: Job) -> None:
        """Extend the job's lease while a long run is still going."""
        every = job.lease_hold.total_seconds() / 3
        while True:
            await self.ctx.clock.sleep(every)
            with contextlib.suppress(Exception):
                async with self.ctx.db.write() as session, session.begin():
                    await LeaseRepository(session).renew(
                        JOB_PREFIX + job.name, self.owner, self.ctx.clock.now(), job.lease_hold
                    )

    async def _finish(self, job: Job, duration_ms: int, error: str | None) -> None:
        async with self.ctx.db.write() as session, session.begin():
            await LeaseRepository(session).finish(
                JOB_PREFIX + job.name, self.owner, self.ctx.clock.now(), duration_ms, error
            )
