"""``NovitaClient``: typed async access to Novita's GPU-instance OpenAPI.

The client is handed an ``httpx.AsyncClient`` (the app's lifespan owns it; tests pass one with
a ``MockTransport`` or the emulator's transport) and never builds its own. Each method states
whether it is retried; the rules are in :mod:`novita_gpu.upstream.retry` and the limits in
:class:`~novita_gpu.upstream.policy.UpstreamPolicy`. Every method raises a subclass of
:class:`~novita_gpu.upstream.errors.UpstreamError` on failure.
"""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import httpx
import structlog

from novita_gpu.core.clock import Clock
from novita_gpu.upstream.caller import Query, Route, UpstreamCaller
from novita_gpu.upstream.classify import parse_payload
from novita_gpu.upstream.create_request import CreateInstanceRequest
from novita_gpu.upstream.errors import CreateOutcomeUnknown, UpstreamError, UpstreamPagingError
from novita_gpu.upstream.instance_models import (
    ActionResult,
    CreatedInstance,
    InstancePage,
    JobPage,
    MigrateResult,
    UpstreamInstance,
)
from novita_gpu.upstream.models import (
    Cluster,
    ClusterList,
    Product,
    ProductList,
    RegistryAuth,
    RegistryAuthList,
    Template,
    TemplateEnvelope,
    TemplatePage,
)
from novita_gpu.upstream.observer import CallObserver
from novita_gpu.upstream.policy import UpstreamPolicy
from novita_gpu.upstream.retry import Idempotency

log = structlog.get_logger(__name__)

FIRST_PAGE_NUM = 1
"""Novita's first page. The emulator (and, as far as clients can tell, Novita) reads 0 as 1."""
DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 100

_SAFE, _CONVERGENT = Idempotency.SAFE, Idempotency.CONVERGENT
CLUSTERS = Route("GET", "/clusters", _SAFE)
PRODUCTS = Route("GET", "/products", _SAFE)
TEMPLATES = Route("GET", "/templates", _SAFE)
TEMPLATE = Route("GET", "/template", _SAFE)
REGISTRY_AUTHS = Route("GET", "/repository/auths", _SAFE)
INSTANCES = Route("GET", "/gpu/instances", _SAFE)
INSTANCE = Route("GET", "/gpu/instance", _SAFE)
JOBS = Route("GET", "/jobs", _SAFE)
CREATE = Route("POST", "/gpu/instance/create", Idempotency.ONCE)
START = Route("POST", "/gpu/instance/start", _CONVERGENT)
STOP = Route("POST", "/gpu/instance/stop", _CONVERGENT)
DELETE = Route("POST", "/gpu/instance/delete", _CONVERGENT)
RESTART = Route("POST", "/gpu/instance/restart", Idempotency.UNSAFE)
MIGRATE = Route("POST", "/gpu/instance/migrate", Idempotency.ONCE)


class NovitaClient:
    """Novita's GPU-instance API with retries, a rate limit, bounded concurrency and a breaker.

    ``base_url`` is like ``https://api.novita.ai/gpu-instance/openapi``; a trailing ``/v1`` or
    slash is accepted. ``rng`` seeds backoff jitter; ``observer`` receives one report per
    attempt (see :mod:`novita_gpu.upstream.observer`). The API key is sent as a Bearer token
    and appears in no repr, log line or error.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        policy: UpstreamPolicy,
        clock: Clock,
        rng: random.Random | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self._caller = UpstreamCaller(
            http,
            base_url=base_url,
            api_key=api_key,
            policy=policy,
            clock=clock,
            rng=rng,
            observer=observer,
        )

    def __repr__(self) -> str:
        return f"NovitaClient(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The API root the routes are appended to, ending in ``/v1``."""
        return self._caller.base_url

    @property
    def breaker_state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"``, for /health and metrics."""
        return self._caller.breaker_state.value

    # Catalog (all GETs: retried on transient failures)

    async def list_clusters(self) -> list[Cluster]:
        """Every cluster (region) and the GPU types it has."""
        payload = await self._caller.call(CLUSTERS)
        return parse_payload(ClusterList, payload, CLUSTERS.label).data

    async def list_products(
        self,
        *,
        cluster_id: str | None = None,
        product_name: str | None = None,
        gpu_num: int | None = None,
        billing_method: str | None = None,
        min_rootfs_size: int | None = None,
    ) -> list[Product]:
        """GPU products, filtered upstream (``product_name`` is a fuzzy match there)."""
        params: Query = {
            "clusterId": cluster_id,
            "productName": product_name,
            "gpuNum": gpu_num,
            "billingMethod": billing_method,
            "minRootFSSize": min_rootfs_size,
        }
        payload = await self._caller.call(PRODUCTS, params=params)
        return parse_payload(ProductList, payload, PRODUCTS.label).data

    async def list_templates(
        self,
        *,
        channel: str,
        is_my_community: bool,
        name: str | None = None,
        page_size: int | None = None,
        page_num: int | None = None,
    ) -> TemplatePage:
        """One page of templates of a channel (``official``, ``community`` or ``private``)."""
        params: Query = {
            "channel": channel,
            "isMyCommunity": is_my_community,
            "name": name,
            "pageSize": page_size,
            "pageNum": page_num,
        }
        payload = await self._caller.call(TEMPLATES, params=params)
        return parse_payload(TemplatePage, payload, TEMPLATES.label)

    async def get_template(self, template_id: str | int) -> Template:
        """One template. Raises :class:`~novita_gpu.upstream.errors.UpstreamNotFound`."""
        payload = await self._caller.call(TEMPLATE, params={"templateId": str(template_id)})
        return parse_payload(TemplateEnvelope, payload, TEMPLATE.label).template

    async def list_registry_auths(self) -> list[RegistryAuth]:
        """Stored registry credentials (passwords as ``SecretStr``)."""
        payload = await self._caller.call(REGISTRY_AUTHS)
        return parse_payload(RegistryAuthList, payload, REGISTRY_AUTHS.label).data

    # Instances

    async def create_instance(self, request: CreateInstanceRequest) -> str:
        """Create an instance and return its id. One attempt, never retried.

        Raises :class:`~novita_gpu.upstream.errors.CreateOutcomeUnknown` when the request went
        out but its answer was lost (read timeout, dropped connection, 5xx, unreadable 2xx):
        call :meth:`resolve_unknown_create` before sending anything again. Any other error
        means nothing was created.
        """
        try:
            payload = await self._caller.call(CREATE, body=request.to_body())
            return parse_payload(CreatedInstance, payload, CREATE.label).id
        except UpstreamError as error:
            if not error.maybe_applied:
                raise
            log.warning("upstream.create_outcome_unknown", name=request.name, error=str(error))
            raise CreateOutcomeUnknown(instance_name=request.name, cause=error) from error

    async def list_instances(
        self,
        *,
        page_size: int,
        page_num: int,
        name: str | None = None,
        product_name: str | None = None,
        status: str | None = None,
    ) -> InstancePage:
        """One page of instances. ``name`` and ``product_name`` are fuzzy matches upstream."""
        params: Query = {
            "pageSize": page_size,
            "pageNum": page_num,
            "name": name,
            "productName": product_name,
            "status": status,
        }
        payload = await self._caller.call(INSTANCES, params=params)
        return parse_payload(InstancePage, payload, INSTANCES.label)

    async def iter_instances(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        name: str | None = None,
        product_name: str | None = None,
        status: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> AsyncGenerator[UpstreamInstance, None]:
        """Every matching instance, page by page, each id once.

        Stops after a short page, once ``total`` instances were seen, or when a page brings
        nothing new (upstream repeating a page). Raises
        :class:`~novita_gpu.upstream.errors.UpstreamPagingError` when ``max_pages`` pages were
        read without reaching the end, so a caller never mistakes a cut listing for a full one.
        """
        seen: set[str] = set()
        for page_num in range(FIRST_PAGE_NUM, FIRST_PAGE_NUM + max_pages):
            page = await self.list_instances(
                page_size=page_size,
                page_num=page_num,
                name=name,
                product_name=product_name,
                status=status,
            )
            fresh = [instance for instance in page.instances if instance.id not in seen]
            seen.update(instance.id for instance in fresh)
            for instance in fresh:
                yield instance
            if _is_last_page(page, page_size=page_size, seen=len(seen), fresh=len(fresh)):
                return
        raise UpstreamPagingError(
            f"{INSTANCES.label}: more than {max_pages} pages of {page_size}",
            endpoint=INSTANCES.label,
        )

    async def list_all_instances(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        name: str | None = None,
        product_name: str | None = None,
        status: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[UpstreamInstance]:
        """:meth:`iter_instances` collected into a list."""
        instances = self.iter_instances(
            page_size=page_size,
            name=name,
            product_name=product_name,
            status=status,
            max_pages=max_pages,
        )
        return [instance async for instance in instances]

    async def find_instances_by_name(self, name: str) -> list[UpstreamInstance]:
        """Instances whose name is exactly ``name`` (upstream's ``name`` filter is fuzzy)."""
        matches = await self.list_all_instances(name=name)
        return [instance for instance in matches if instance.name == name]

    async def resolve_unknown_create(self, name: str) -> UpstreamInstance | None:
        """The instance a create with an unknown outcome made, or ``None`` if there is none.

        Deleted instances of the same name are ignored; if several live ones share the name,
        the newest is returned. Upstream may list a new instance a moment late, so a ``None``
        soon after the create is worth confirming once more before re-sending it.
        """
        live = [i for i in await self.find_instances_by_name(name) if not i.is_removed]
        if len(live) > 1:
            log.warning("upstream.duplicate_instance_name", name=name, count=len(live))
        return max(live, key=_created_at, default=None)

    async def get_instance(self, instance_id: str) -> UpstreamInstance:
        """One instance. Raises :class:`~novita_gpu.upstream.errors.UpstreamNotFound`."""
        payload = await self._caller.call(INSTANCE, params={"instanceId": instance_id})
        return parse_payload(UpstreamInstance, payload, INSTANCE.label)

    async def start_instance(self, instance_id: str) -> ActionResult:
        """Start a stopped instance. Retried; a repeat may answer ``UpstreamInvalidState``."""
        return await self._instance_action(START, instance_id)

    async def stop_instance(self, instance_id: str) -> ActionResult:
        """Stop an instance. Retried; a repeat may answer ``UpstreamInvalidState``."""
        return await self._instance_action(STOP, instance_id)

    async def restart_instance(self, instance_id: str) -> ActionResult:
        """Restart an instance. Retried only when the first attempt certainly never arrived."""
        return await self._instance_action(RESTART, instance_id)

    async def delete_instance(self, instance_id: str) -> ActionResult:
        """Delete an instance. Retried; a repeat may answer ``UpstreamNotFound`` (gone)."""
        return await self._instance_action(DELETE, instance_id)

    async def migrate_instance(self, instance_id: str) -> MigrateResult:
        """Migrate a (reclaimed spot) instance. One attempt: a lost answer is not retried."""
        payload = await self._caller.call(MIGRATE, body={"instanceId": instance_id})
        return parse_payload(MigrateResult, payload, MIGRATE.label)

    async def _instance_action(self, route: Route, instance_id: str) -> ActionResult:
        payload = await self._caller.call(route, body={"instanceId": instance_id})
        return parse_payload(ActionResult, payload, route.label)

    # Jobs

    async def list_jobs(
        self,
        *,
        page_size: int,
        page_num: int,
        type: str | None = None,
        state: str | None = None,
        job_id: str | None = None,
    ) -> JobPage:
        """One page of jobs (``type``: ``saveImage``, ``instanceMigrate``, ...)."""
        params: Query = {
            "pageSize": page_size,
            "pageNum": page_num,
            "type": type,
            "state": state,
            "jobId": job_id,
        }
        payload = await self._caller.call(JOBS, params=params)
        return parse_payload(JobPage, payload, JOBS.label)


def _is_last_page(page: InstancePage, *, page_size: int, seen: int, fresh: int) -> bool:
    reached_total = page.total is not None and seen >= page.total
    return len(page.instances) < page_size or reached_total or fresh == 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _created_at(instance: UpstreamInstance) -> datetime:
    return instance.created_at or _EPOCH
