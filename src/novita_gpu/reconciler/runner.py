"""The background runner: one asyncio task per periodic job, all on the injected clock.

Each job is a small named function (:class:`Job`). Before a run, the runner claims the job's
lease in the database, so with several replicas each job runs once per interval; after the run
it records the duration and any error (the heartbeat ``/health`` reads). A job's exception is
logged and recorded, never fatal to the loop.
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
from typing import Any

import httpx
import structlog

from novita_gpu.context import AppContext
from novita_gpu.reconciler.leases import JOB_PREFIX, LeaseRepository

_log = structlog.get_logger("reconciler")


def new_owner_id() -> str:
    """Identifies this process in lease columns: host, pid and a random suffix."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class JobContext:
    """What a job run gets: the app context, this process's lease owner id, a probe client."""

    ctx: AppContext
    owner: str
    probe_http: httpx.AsyncClient


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
        self.probe_http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def job_context(self) -> JobContext:
        return JobContext(self.ctx, self.owner, self.probe_http)

    def start(self) -> None:
        for job in self.jobs.values():
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"job:{job.name}"))
        for task in self.extra_tasks:
            self._tasks.append(asyncio.create_task(task(self.ctx), name=task.__name__))

    async def stop(self) -> None:
        """Cancel every task and wait for them, at most ``stop_timeout`` seconds in total.

        Shutdown must stay bounded: a task that does not finish in time is logged by name
        (with where it is stuck) and left behind rather than hanging the process.
        """
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
        """Claim and run one job now (tests, manual triggers); False if another holds it."""
        return await self._tick(self.jobs[name], force=True)

    async def _loop(self, job: Job) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self._tick(job)
            await self.ctx.clock.sleep(job.interval)

    async def _tick(self, job: Job, *, force: bool = False) -> bool:
        if not await self._claim(job, force):
            return False
        started = time.perf_counter()
        error: str | None = None
        renewer = asyncio.create_task(self._keep_lease(job))
        try:
            await job.run(self.job_context)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            _log.exception("job failed", job=job.name)
        finally:
            renewer.cancel()
        elapsed = time.perf_counter() - started
        self.ctx.metrics.reconcile_tick.labels(job.name).observe(elapsed)
        await self._finish(job, int(elapsed * 1000), error)
        return True

    async def _claim(self, job: Job, force: bool) -> bool:
        now = self.ctx.clock.now()
        name = JOB_PREFIX + job.name
        async with self.ctx.db.write() as session, session.begin():
            leases = LeaseRepository(session)
            await leases.ensure(name, job.interval)
            return await leases.claim(
                name, self.owner, now, job.interval, job.lease_hold, force=force
            )

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
