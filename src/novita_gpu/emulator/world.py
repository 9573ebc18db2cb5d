"""The simulated Novita world and its Python API.

Upstream operations (``create_instance``, ``start_instance``...) enforce upstream's business rules
and raise :class:`EmulatorError` exactly as the HTTP routes answer. Admin operations
(``reclaim``, ``fail``, ``set_capacity``, ``add_fault``...) mirror ``/_emulator/*`` so in-process
tests can arrange a scene without HTTP. Every read first settles the clock-driven transitions.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from novita_gpu.core.clock import Clock
from novita_gpu.emulator.capacity import Capacity
from novita_gpu.emulator.catalog import Catalog, Product, RegistryAuth, Template
from novita_gpu.emulator.config import EmulatorConfig
from novita_gpu.emulator.defaults import default_catalog, empty_catalog
from novita_gpu.emulator.errors import (
    EmulatorError,
    insufficient_resource,
    invalid_state_change,
    not_found,
    validator_param,
)
from novita_gpu.emulator.faults import FaultBook, FaultKind, FaultRule
from novita_gpu.emulator.lifecycle import Lifecycle, random_token
from novita_gpu.emulator.market import ID_ALPHABET, Market
from novita_gpu.emulator.models import (
    Instance,
    Job,
    JobState,
    SpotStatus,
    Status,
    StatusError,
)
from novita_gpu.emulator.simclock import SimClock
from novita_gpu.emulator.validation import CreateRequest, parse_create

_EPSILON = 1e-6


class World:
    """In-memory products, capacity, templates, auths, instances, jobs, faults and counters."""

    def __init__(self, config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.clock = clock if isinstance(clock, SimClock) else SimClock(clock)
        self.reset()

    @property
    def catalog(self) -> Catalog:
        return self.market.catalog

    @property
    def capacity(self) -> Capacity:
        return self.market.capacity

    # -- time ------------------------------------------------------------------------------

    def now(self) -> float:
        """Simulated Unix time."""
        return self.lifecycle.now()

    def settle(self) -> None:
        """Apply every transition that is due (called by every read and action)."""
        self.lifecycle.settle()

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and apply what became due."""
        self.clock.advance(seconds)
        self.settle()

    # -- reads -----------------------------------------------------------------------------

    def instance(self, instance_id: str) -> Instance:
        """The instance, settled. Raises not-found (status per config)."""
        self.settle()
        instance = self.lifecycle.instances.get(instance_id)
        if instance is None:
            raise not_found(
                self.config.not_found_status,
                "RESOURCE_NOT_FOUND",
                f"instance {instance_id} not found",
            )
        return instance

    def find_instance(self, instance_id: str) -> Instance | None:
        """The instance, or ``None`` (no settle: call :meth:`settle` first if it matters)."""
        return self.lifecycle.instances.get(instance_id)

    def instances(
        self, *, name: str = "", product_name: str = "", status: str = ""
    ) -> list[Instance]:
        """Matching instances, newest first (``name``/``product_name`` are fuzzy)."""
        self.settle()
        found = [
            i
            for i in self.lifecycle.instances.values()
            if _fuzzy(name, i.name)
            and _fuzzy(product_name, i.product_name)
            and (not status or i.status.value == status)
        ]
        return sorted(found, key=lambda i: (-i.created_at, i.id))

    def jobs(
        self,
        *,
        job_id: str = "",
        state: str = "",
        job_type: str = "",
        since: int = 0,
        until: int = 0,
    ) -> list[Job]:
        """Matching jobs, newest first; ``since``/``until`` bound ``createdAt`` when non-zero."""
        self.settle()
        found = [
            j
            for j in self.lifecycle.jobs.values()
            if (not job_id or j.id == job_id)
            and (not state or j.state.value == state)
            and (not job_type or j.type == job_type)
            and (not since or j.created_at >= since)
            and (not until or j.created_at <= until)
        ]
        return sorted(found, key=lambda j: (-j.created_at, j.id))

    def template(self, template_id: str) -> Template:
        """Raises ``TEMPLATE_NOT_FOUND`` (status per config)."""
        return self.market.template(template_id)

    def free_gpus(self, product: Product, cluster_id: str = "") -> int:
        """Most free GPUs in any of the product's clusters (or in ``cluster_id``)."""
        return self.market.free_gpus(product, cluster_id)

    def app_is_up(self, instance: Instance) -> bool:
        """Whether the instance's http ports answer 200 now (running, booted, healthy)."""
        if instance.status is not Status.RUNNING or not instance.app_healthy:
            return False
        boot = instance.boot_seconds
        if boot is None:
            boot = self.config.scaled(self.config.app_boot_seconds)
        return self.now() + _EPSILON >= instance.running_since + boot

    # -- upstream operations ---------------------------------------------------------------

    def create_instance(self, body: Any) -> Instance:
        """``POST /gpu/instance/create``. Raises ``VALIDATOR_PARAM``, ``INSUFFICIENT_RESOURCE``,
        ``UNSUPPORTED_BILLING_MODE``. Reserves capacity at once."""
        self.settle()
        request = parse_create(body)
        product = self.market.product_for(request)
        cluster_id = self.market.choose_cluster(product, request)
        reservation = self.capacity.take(product.id, cluster_id, request.gpu_num)
        if reservation is None:
            raise insufficient_resource(f"no free {product.name} in {cluster_id}")
        instance = self._new_instance(request, product, cluster_id)
        instance.reservation = reservation
        self.lifecycle.instances[instance.id] = instance
        steps = self.config.steps
        plan = [
            (Status.TO_CREATE, steps.to_create),
            (Status.CREATING, steps.creating),
            (Status.PULLING, steps.pulling),
        ]
        self.lifecycle.run(instance, plan, Status.RUNNING)
        return instance

    def start_instance(self, instance_id: str) -> Instance:
        """``exited`` -> toStart -> starting -> running. Raises ``invalid state change``,
        ``INSUFFICIENT_RESOURCE`` or not-found."""
        instance = self._require(instance_id, Status.EXITED)
        reservation = self.capacity.take(instance.product_id, instance.cluster_id, instance.gpu_num)
        if reservation is None:
            raise insufficient_resource(f"no free {instance.product_name} in {instance.cluster_id}")
        instance.reservation = reservation
        instance.status_error = None
        steps = self.config.steps
        plan = [(Status.TO_START, steps.to_start), (Status.STARTING, steps.starting)]
        self.lifecycle.run(instance, plan, Status.RUNNING)
        return instance

    def stop_instance(self, instance_id: str) -> Instance:
        """``running`` -> toStop -> stopping -> exited (cancels a pending spot reclaim)."""
        instance = self._require(instance_id, Status.RUNNING)
        if instance.is_spot:
            instance.spot_status, instance.spot_reclaim_time = SpotStatus.RUNNING, 0
        steps = self.config.steps
        plan = [(Status.TO_STOP, steps.to_stop), (Status.STOPPING, steps.stopping)]
        self.lifecycle.run(instance, plan, Status.EXITED)
        return instance

    def restart_instance(self, instance_id: str) -> Instance:
        """``running`` -> toRestart -> restarting -> running (credentials kept)."""
        instance = self._require(instance_id, Status.RUNNING)
        steps = self.config.steps
        plan = [(Status.TO_RESTART, steps.to_restart), (Status.RESTARTING, steps.restarting)]
        self.lifecycle.run(instance, plan, Status.RUNNING)
        return instance

    def delete_instance(self, instance_id: str) -> Instance:
        """Any state -> toRemove -> removing -> removed; idempotent while removing.
        Raises ``PREPAID_INSTANCE_NOT_SUPPORT_RELEASE`` for monthly instances."""
        instance = self.instance(instance_id)
        if instance.billing_mode == "monthly":
            raise EmulatorError(
                400,
                "PREPAID_INSTANCE_NOT_SUPPORT_RELEASE",
                "subscription instances cannot be released",
            )
        if instance.status is Status.REMOVED:
            raise not_found(
                self.config.not_found_status, "RESOURCE_NOT_FOUND", "instance already removed"
            )
        if instance.status in (Status.TO_REMOVE, Status.REMOVING):
            return instance
        self.lifecycle.fail_jobs_of(instance.id, "instance deleted")
        steps = self.config.steps
        plan = [(Status.TO_REMOVE, steps.to_remove), (Status.REMOVING, steps.removing)]
        self.lifecycle.run(instance, plan, Status.REMOVED)
        return instance

    def migrate_instance(self, instance_id: str) -> Job:
        """Start an ``instanceMigrate`` job for an ``exited`` instance; the instance is
        ``migrating`` until the job ends. Raises ``MIGRATE_INSUFFICIENT_RESOURCE``."""
        instance = self._require(instance_id, Status.EXITED)
        target = self.market.migration_target(instance)
        if target is None:
            raise EmulatorError(
                400, "MIGRATE_INSUFFICIENT_RESOURCE", "no capacity to migrate the instance"
            )
        product, cluster_id = target
        reservation = self.capacity.take(product.id, cluster_id, instance.gpu_num)
        assert reservation is not None  # _migration_target checked the free count
        job = Job(
            id=self._new_job_id(),
            type="instanceMigrate",
            instance_id=instance.id,
            created_at=self.now(),
            outcome=self.migrate_outcome,
            target=reservation,
            target_cpu_num=product.cpu_per_gpu * instance.gpu_num,
            target_memory=product.memory_per_gpu * instance.gpu_num,
            target_price=product.price_for(instance.billing_mode) * instance.gpu_num,
        )
        instance.status_error = None
        self.lifecycle.begin_migration(instance, job)
        return job

    def break_job(self, job_id: str) -> Job:
        """Stop a running job; its instance goes back to ``exited``.
        Raises ``JOB_NOT_FOUND`` or ``MIGRATION_JOB_NOT_BREAKABLE``."""
        self.settle()
        job = self.lifecycle.jobs.get(job_id)
        if job is None:
            raise not_found(
                self.config.not_found_status, "JOB_NOT_FOUND", f"job {job_id} not found"
            )
        if job.finished:
            raise EmulatorError(400, "MIGRATION_JOB_NOT_BREAKABLE", "the job has already ended")
        self.lifecycle.end_job(job, JobState.BREAK)
        return job

    # -- admin: catalog and capacity -------------------------------------------------------

    def reset(self) -> None:
        """Back to the configured starting world: catalog, capacity, no instances, jobs,
        faults or request counts. Simulated time is not rewound."""
        seed = self.config.random_seed
        self.rng = random.Random(seed)
        self.faults = FaultBook(seed)
        self.request_counter: Counter[str] = Counter()
        self.migrate_outcome = "success"
        self.junk_list_items: list[dict[str, Any]] = []
        catalog = default_catalog() if self.config.seed_default_world else empty_catalog()
        self.market = Market(catalog, self.rng, self.config.not_found_status)
        self.lifecycle = Lifecycle(self.config, self.clock, self.market.capacity, self.rng)

    def upsert_products(self, products: Iterable[Product | Mapping[str, Any]]) -> list[str]:
        """Add or replace products (by id) and reset their capacity to ``capacity``.
        Raises ``VALIDATOR_PARAM`` for an unknown cluster id."""
        return self.market.upsert_products(products)

    def upsert_templates(self, templates: Iterable[Template | Mapping[str, Any]]) -> list[str]:
        """Add or replace templates by ``Id``."""
        return self.market.upsert_templates(templates)

    def upsert_registry_auths(self, auths: Iterable[RegistryAuth | Mapping[str, Any]]) -> list[str]:
        """Add or replace registry auths by ``id`` (a missing id gets a generated one)."""
        return self.market.upsert_registry_auths(auths)

    def delete_registry_auth(self, auth_id: str) -> None:
        """Raises ``IMAGE_AUTH_IN_USE`` when a template references it, not-found if unknown."""
        self.market.delete_registry_auth(auth_id)

    def add_junk_list_item(self, item: Mapping[str, Any]) -> None:
        """Send ``item`` verbatim at the end of every ``GET /gpu/instances`` answer (and count
        it in ``total``), to test clients against an item they cannot read."""
        self.junk_list_items.append(dict(item))

    def set_capacity(self, product_id: str, cluster_id: str, available: int) -> None:
        """Set the free GPUs of one product in one cluster (0 = ``INSUFFICIENT_RESOURCE``)."""
        self.market.set_capacity(product_id, cluster_id, available)

    # -- admin: instance events -------------------------------------------------------------

    def reclaim(self, instance_id: str, notice_seconds: float | None = None) -> Instance:
        """Announce a spot reclaim: ``notified`` now, ``reclaiming`` after the notice, then
        ``terminated`` with status ``exited``. Only for a running spot instance."""
        instance = self.instance(instance_id)
        if not instance.is_spot or instance.status is not Status.RUNNING:
            raise EmulatorError(400, "REQUEST", "only a running spot instance can be reclaimed")
        notice = (
            self.config.spot_reclaim_notice_seconds if notice_seconds is None else notice_seconds
        )
        self.lifecycle.notify_reclaim(instance, max(0.0, notice))
        return instance

    def fail(
        self, instance_id: str, message: str = "instance failed", status: str = "exited"
    ) -> Instance:
        """Fail the instance now: ``statusError`` gets the current status and ``message``,
        pending steps are cancelled and the status becomes ``status`` (default ``exited``)."""
        instance = self.instance(instance_id)
        try:
            target = Status(status)
        except ValueError:
            raise validator_param(f"unknown status {status!r}") from None
        instance.status_error = StatusError(state=instance.status.value, message=message)
        self.lifecycle.fail_jobs_of(instance.id, message)
        self.lifecycle.interrupt(instance, target)
        return instance

    def vanish(self, instance_id: str) -> None:
        """Remove the instance upstream-side without a delete: it is not-found from now on."""
        instance = self.instance(instance_id)
        self.lifecycle.fail_jobs_of(instance.id, "instance vanished")
        self.lifecycle.release(instance)
        del self.lifecycle.instances[instance.id]

    def set_app(
        self, instance_id: str, *, healthy: bool = True, boot_seconds: float | None = None
    ) -> Instance:
        """Make the instance's app (un)healthy; ``boot_seconds`` (counted from entering
        ``running``, not scaled by ``speed``) overrides the configured boot time."""
        instance = self.instance(instance_id)
        instance.app_healthy = healthy
        if boot_seconds is not None:
            instance.boot_seconds = max(0.0, boot_seconds)
        return instance

    def set_migrate_outcome(self, outcome: str) -> None:
        """How migration jobs started from now on end: ``success`` or ``fail``."""
        if outcome not in ("success", "fail"):
            raise validator_param("outcome must be success or fail")
        self.migrate_outcome = outcome

    # -- admin: faults and request counts --------------------------------------------------

    def add_fault(
        self,
        kind: FaultKind | str,
        path: str = "*",
        *,
        method: str | None = None,
        rate: float | None = None,
        count: int | None = None,
        **options: Any,
    ) -> str:
        """Add a :class:`FaultRule`; ``options`` are its other fields (``status``,
        ``reason``, ``message``, ``retry_after``, ``latency_ms``, ``hang_seconds``).
        Returns the rule id. Raises ``pydantic.ValidationError`` for bad values."""
        rule = FaultRule.model_validate(
            {"kind": kind, "path": path, "method": method, "rate": rate, "count": count, **options}
        )
        return self.faults.add(rule)

    def remove_fault(self, fault_id: str) -> bool:
        return self.faults.remove(fault_id)

    def clear_faults(self) -> None:
        self.faults.clear()

    def count_request(self, method: str, path: str) -> None:
        """Record one upstream call as ``"METHOD /path"`` (path without the API prefix)."""
        self.request_counter[f"{method.upper()} {path}"] += 1

    def request_counts(self) -> dict[str, int]:
        """Upstream calls so far, per ``"METHOD /path"``."""
        return dict(sorted(self.request_counter.items()))

    def reset_request_counts(self) -> None:
        self.request_counter.clear()

    # -- helpers ---------------------------------------------------------------------------

    def _require(self, instance_id: str, status: Status) -> Instance:
        instance = self.instance(instance_id)
        if instance.status is not status:
            raise invalid_state_change(instance.id, instance.status.value)
        return instance

    def _new_instance(self, request: CreateRequest, product: Product, cluster_id: str) -> Instance:
        now = self.now()
        end_time = str(int(now + request.month * 30 * 86400)) if request.month else "-1"
        return Instance(
            id=self._new_instance_id(),
            name=request.name,
            product_id=product.id,
            product_name=product.name,
            cluster_id=cluster_id,
            gpu_num=request.gpu_num,
            cpu_num=product.cpu_per_gpu * request.gpu_num,
            memory=product.memory_per_gpu * request.gpu_num,
            rootfs_size=request.rootfs_size,
            image_url=request.image_url,
            image_auth_id=request.image_auth_id,
            command=request.command,
            entrypoint=request.entrypoint,
            ports=request.ports,
            tools=request.tools,
            envs=request.envs,
            kind=request.kind,
            billing_mode=request.billing_mode,
            price=product.price_for(request.billing_mode) * request.gpu_num,
            end_time=end_time,
            created_at=now,
            spot_status=SpotStatus.RUNNING if request.billing_mode == "spot" else SpotStatus.NONE,
            tcp_proxy_ports={
                m.port: self.rng.randint(20000, 65000) for m in request.ports if m.type == "tcp"
            },
        )

    def _new_instance_id(self) -> str:
        while (new_id := f"{self.rng.getrandbits(64):016x}") in self.lifecycle.instances:
            pass
        return new_id

    def _new_job_id(self) -> str:
        return random_token(self.rng, 16, ID_ALPHABET)


def _fuzzy(needle: str, haystack: str) -> bool:
    return needle.lower() in haystack.lower()
