"""The clock-driven state machine of instances and migration jobs.

Nothing runs in the background: an action schedules its future steps on the :class:`Timeline`,
and :meth:`Lifecycle.settle` applies every step that is due, in time order, each at its own
timestamp. So after ``clock.advance(30)`` the next read sees the state 30 s later, with
``lastStartedAt`` and friends set to when each step really happened.

Entering a status has side effects: ``running`` stamps ``lastStartedAt`` and starts the app boot
timer (and rotates SSH credentials unless it comes from a restart); ``exited`` stamps
``lastStoppedAt`` and releases capacity; ``removed`` releases capacity and schedules the purge.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from datetime import UTC, datetime

from novita_gpu.emulator.capacity import Capacity
from novita_gpu.emulator.config import EmulatorConfig
from novita_gpu.emulator.models import Instance, Job, JobState, SpotStatus, Status
from novita_gpu.emulator.simclock import SimClock
from novita_gpu.emulator.timeline import Event, JobStep, Purge, SpotStep, StatusStep, Timeline

Plan = Sequence[tuple[Status, float]]
"""Transitional statuses with the configured seconds spent in each."""


class Lifecycle:
    """Owns instances, jobs and their future; see the module docstring."""

    def __init__(
        self, config: EmulatorConfig, clock: SimClock, capacity: Capacity, rng: random.Random
    ) -> None:
        self.config = config
        self.clock = clock
        self.capacity = capacity
        self.rng = rng
        self.instances: dict[str, Instance] = {}
        self.jobs: dict[str, Job] = {}
        self.timeline = Timeline()
        self._at: float | None = None

    def now(self) -> float:
        """Simulated Unix time; while a step is applied, that step's own time."""
        return self._at if self._at is not None else self.clock.timestamp()

    def settle(self) -> None:
        """Apply every step due by now, in time order."""
        now = self.clock.timestamp()
        try:
            while (due := self.timeline.pop_due(now)) is not None:
                self._at, event = due
                self._apply(event)
        finally:
            self._at = None

    def run(self, instance: Instance, plan: Plan, final: Status) -> None:
        """Enter ``plan[0]`` now, then each later status after the previous one's seconds."""
        instance.generation += 1
        self.enter(instance, plan[0][0])
        at = self.now()
        steps = [status for status, _ in plan[1:]] + [final]
        for (_, seconds), status in zip(plan, steps, strict=True):
            at += self.config.scaled(seconds)
            self.timeline.schedule(at, StatusStep(instance.id, instance.generation, status))

    def interrupt(self, instance: Instance, status: Status) -> None:
        """Cancel pending steps and enter ``status`` now."""
        instance.generation += 1
        self.enter(instance, status)

    def enter(self, instance: Instance, status: Status) -> None:
        previous = instance.status
        instance.previous_status, instance.status = previous, status
        instance.history.append(f"{_iso(self.now())} status {status.value}")
        if status is Status.RUNNING:
            self._on_running(instance, previous)
        elif status is Status.EXITED:
            self._on_exited(instance)
        elif status is Status.REMOVED:
            self._on_removed(instance)

    def release(self, instance: Instance) -> None:
        """Give back the GPUs ``instance`` holds (idempotent)."""
        if instance.reservation is not None:
            self.capacity.give_back(instance.reservation)
            instance.reservation = None

    def notify_reclaim(self, instance: Instance, notice_seconds: float) -> None:
        """Announce a spot reclaim ``notice_seconds`` from now."""
        instance.spot_status = SpotStatus.NOTIFIED
        instance.spot_reclaim_time = self.now() + notice_seconds
        instance.history.append(f"{_iso(self.now())} spot reclaim notified")
        step = SpotStep(instance.id, instance.generation, SpotStatus.RECLAIMING)
        self.timeline.schedule(instance.spot_reclaim_time, step)

    def begin_migration(self, instance: Instance, job: Job) -> None:
        """Put ``instance`` into ``migrating`` and schedule ``job``'s states."""
        self.jobs[job.id] = job
        self.interrupt(instance, Status.MIGRATING)
        steps = self.config.steps
        running_at = self.now() + self.config.scaled(steps.migrate_pulling)
        done_at = running_at + self.config.scaled(steps.migrate_running)
        final = JobState.SUCCESS if job.outcome == "success" else JobState.FAIL
        self.timeline.schedule(running_at, JobStep(job.id, JobState.RUNNING))
        self.timeline.schedule(done_at, JobStep(job.id, final))

    def end_job(self, job: Job, state: JobState, message: str = "") -> None:
        """Finish ``job``; anything but success sends its instance back to ``exited``."""
        job.state = state
        instance = self.instances.get(job.instance_id)
        if state is JobState.SUCCESS and instance is not None:
            self._complete_migration(instance, job)
            return
        self.capacity.give_back(job.target)
        job.error, job.error_message = ("MIGRATE_FAILED", message) if message else ("", "")
        if instance is not None and instance.status is Status.MIGRATING:
            self.interrupt(instance, Status.EXITED)

    def fail_jobs_of(self, instance_id: str, message: str) -> None:
        for job in self.jobs.values():
            if job.instance_id == instance_id and not job.finished:
                self.end_job(job, JobState.FAIL, message)

    def rotate_credentials(self, instance: Instance) -> None:
        """New SSH proxy port and passwords (done on every start)."""
        creds = instance.credentials
        creds.ssh_port = self.rng.randint(20000, 65000)
        creds.ssh_password = random_token(self.rng, 16)
        creds.terminal_password = random_token(self.rng, 12)

    def _apply(self, event: Event) -> None:
        if isinstance(event, JobStep):
            self._apply_job_step(event)
            return
        instance = self.instances.get(event.instance_id)
        if instance is None or instance.generation != event.generation:
            return
        if isinstance(event, StatusStep):
            self.enter(instance, event.status)
        elif isinstance(event, SpotStep):
            self._apply_spot_step(instance, event.spot_status)
        else:
            del self.instances[instance.id]

    def _apply_job_step(self, step: JobStep) -> None:
        job = self.jobs.get(step.job_id)
        if job is None or job.finished:
            return
        if step.state is JobState.RUNNING:
            job.state = JobState.RUNNING
        else:
            self.end_job(job, step.state, "" if step.state is JobState.SUCCESS else _NO_NODE)

    def _apply_spot_step(self, instance: Instance, spot_status: SpotStatus) -> None:
        if spot_status is SpotStatus.NOTIFIED:
            notice = self.config.spot_reclaim_notice_seconds
            if instance.status is Status.RUNNING:
                self.notify_reclaim(instance, notice)
        elif spot_status is SpotStatus.RECLAIMING:
            self.interrupt(instance, Status.STOPPING)
            instance.spot_status = SpotStatus.RECLAIMING
            at = self.now() + self.config.scaled(self.config.steps.spot_reclaiming)
            step = SpotStep(instance.id, instance.generation, SpotStatus.TERMINATED)
            self.timeline.schedule(at, step)
        else:
            instance.spot_status = SpotStatus.TERMINATED
            self.enter(instance, Status.EXITED)

    def _complete_migration(self, instance: Instance, job: Job) -> None:
        self.release(instance)
        instance.reservation = job.target
        instance.product_id = job.target.product_id
        instance.cluster_id = job.target.cluster_id
        instance.cpu_num, instance.memory = job.target_cpu_num, job.target_memory
        instance.price = job.target_price
        instance.spot_status = SpotStatus.RUNNING if instance.is_spot else SpotStatus.NONE
        instance.spot_reclaim_time = 0
        self.interrupt(instance, Status.RUNNING)

    def _on_running(self, instance: Instance, previous: Status) -> None:
        now = self.now()
        instance.running_since = instance.last_started_at = now
        if previous is not Status.RESTARTING:
            self.rotate_credentials(instance)
        if instance.is_spot:
            instance.spot_status = SpotStatus.RUNNING
            instance.spot_reclaim_time = 0
            self._maybe_schedule_random_reclaim(instance)

    def _on_exited(self, instance: Instance) -> None:
        instance.last_stopped_at = self.now()
        instance.running_since = 0
        self.release(instance)

    def _on_removed(self, instance: Instance) -> None:
        instance.running_since = 0
        self.release(instance)
        at = self.now() + self.config.removed_retention_seconds
        self.timeline.schedule(at, Purge(instance.id, instance.generation))

    def _maybe_schedule_random_reclaim(self, instance: Instance) -> None:
        rate = self.config.random_reclaim_rate_per_hour
        if rate <= 0:
            return
        at = self.now() + self.rng.expovariate(rate / 3600)
        self.timeline.schedule(at, SpotStep(instance.id, instance.generation, SpotStatus.NOTIFIED))


_NO_NODE = "migration failed: no node could take the instance"
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def random_token(rng: random.Random, length: int, alphabet: str = _TOKEN_ALPHABET) -> str:
    """A random string from ``rng`` (deterministic under a seed)."""
    return "".join(rng.choice(alphabet) for _ in range(length))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
