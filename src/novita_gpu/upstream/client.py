"""``NovitaClient``: typed async access to Novita's GPU-instance OpenAPI.

The client is handed an ``httpx.AsyncClient`` (the app's lifespan owns it; tests pass one with
a ``MockTransport`` or the emulator's transport) and never builds its own. Each method states
whether it is retried; the rules are in :mod:`novita_gpu.upstream.retry` and the limits in
:class:`~novita_gpu.upstream.policy.UpstreamPolicy`. Every method raises a subclass of
:class:`~novita_gpu.upstream.errors.UpstreamError` on failure.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import structlog
from pydantic import BaseModel

from novita_gpu.core.clock import Clock
from novita_gpu.upstream.caller import Query, Route, UpstreamCaller
from novita_gpu.upstream.classify import parse_payload
from novita_gpu.upstream.create_request import CreateInstanceRequest
from novita_gpu.upstream.errors import (
    CreateOutcomeUnknown,
    UpstreamDecodeError,
    UpstreamError,
    UpstreamPagingError,
)
from novita_gpu.upstream.health import UpstreamHealth
from novita_gpu.upstream.instance_models import (
    ActionResult,
    CreatedInstance,
    InstancePage,
    JobPage,
    MigrateResult,
    UpstreamInstance,
)
from novita_gpu.upstream.lenient import SkippedItem
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
from novita_gpu.upstream.page_memo import PageMemo
from novita_gpu.upstream.paging import InstanceListing, walk_instance_pages
from novita_gpu.upstream.policy import UpstreamPolicy
from novita_gpu.upstream.retry import Idempotency

log = structlog.get_logger(__name__)

DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 100
_MAX_REMEMBERED_SKIPS = 1000
"""Unreadable list items remembered (to log each once); the oldest is forgotten first."""
M = TypeVar("M", bound=BaseModel)

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
        on_item_skipped: Callable[[str], None] | None = None,
    ) -> None:
        self.health = UpstreamHealth(clock)
        self._on_item_skipped = on_item_skipped
        self._skips_logged: dict[tuple[str, str], None] = {}
        self._listing_memo: PageMemo[InstancePage] = PageMemo()
        """Pages of the unfiltered listing, each parsed again only when its JSON changed."""
        self._caller = UpstreamCaller(
            http,
            base_url=base_url,
            api_key=api_key,
            policy=policy,
            clock=clock,
            rng=rng,
            observer=observer,
            health=self.health,
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
        return self._parse(ClusterList, payload, CLUSTERS.label).data

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
        products = self._parse(ProductList, payload, PRODUCTS.label)
        self._report_skipped(PRODUCTS.label, products.skipped)
        return products.data

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
        return self._parse(TemplatePage, payload, TEMPLATES.label)

    async def get_template(self, template_id: str | int) -> Template:
        """One template. Raises :class:`~novita_gpu.upstream.errors.UpstreamNotFound`."""
        payload = await self._caller.call(TEMPLATE, params={"templateId": str(template_id)})
        return self._parse(TemplateEnvelope, payload, TEMPLATE.label).template

    async def list_registry_auths(self) -> list[RegistryAuth]:
        """Stored registry credentials (passwords as ``SecretStr``)."""
        payload = await self._caller.call(REGISTRY_AUTHS)
        return self._parse(RegistryAuthList, payload, REGISTRY_AUTHS.label).data

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
            return self._parse(CreatedInstance, payload, CREATE.label).id
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
        """One page of instances. ``name`` and ``product_name`` are fuzzy matches upstream.

        A page of the unfiltered listing equal to the last one with its number is not
        validated again (:mod:`novita_gpu.upstream.page_memo`); its unreadable items are still
        reported every time.
        """
        params: Query = {
            "pageSize": page_size,
            "pageNum": page_num,
            "name": name,
            "productName": product_name,
            "status": status,
        }
        payload = await self._caller.call(INSTANCES, params=params)
        if name is None and product_name is None and status is None:
            page = self._listing_memo.parse((page_size, page_num), payload, self._parse_page)
        else:
            page = self._parse_page(payload)
        self._report_skipped(INSTANCES.label, page.skipped)
        return page

    def _parse_page(self, payload: object) -> InstancePage:
        return self._parse(InstancePage, payload, INSTANCES.label)

    async def read_listing(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        name: str | None = None,
        product_name: str | None = None,
        status: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> InstanceListing:
        """Every matching instance, each once, with what the walk could not account for.

        See :mod:`novita_gpu.upstream.paging`: page numbering from 0 or 1, short pages and
        string totals are handled; an incomplete walk is reported (``listing.complete``), not
        raised, so a caller can use what it saw without concluding anything from what it did
        not see.
        """

        async def fetch(page_num: int) -> InstancePage:
            return await self.list_instances(
                page_size=page_size,
                page_num=page_num,
                name=name,
                product_name=product_name,
                status=status,
            )

        listing = await walk_instance_pages(fetch, max_pages=max_pages)
        if not listing.complete:
            log.warning(
                "upstream.listing_incomplete", endpoint=INSTANCES.label, seen=listing.describe()
            )
        return listing

    async def list_all_instances(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        name: str | None = None,
        product_name: str | None = None,
        status: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[UpstreamInstance]:
        """The readable instances of a complete listing (:meth:`read_listing`).

        Raises :class:`~novita_gpu.upstream.errors.UpstreamPagingError` when the walk could
        not account for every instance upstream counted, so a caller never mistakes a cut
        listing for a full one.
        """
        listing = await self.read_listing(
            page_size=page_size,
            name=name,
            product_name=product_name,
            status=status,
            max_pages=max_pages,
        )
        if not listing.complete:
            raise UpstreamPagingError(
                f"{INSTANCES.label}: incomplete listing, saw {listing.describe()}",
                endpoint=INSTANCES.label,
            )
        return listing.instances

    async def find_instances_by_name(self, name: str) -> list[UpstreamInstance]:
        """Instances whose name is exactly ``name`` (upstream's ``name`` filter is fuzzy).

        Raises :class:`~novita_gpu.upstream.errors.UpstreamPagingError` when the listing was
        incomplete or had an unreadable item: that item could be the one looked for, and a
        wrong "no such instance" could make a caller create it twice.
        """
        listing = await self.read_listing(name=name)
        if not listing.complete or listing.skipped:
            raise UpstreamPagingError(
                f"{INSTANCES.label}: cannot tell whether {name!r} exists, saw {listing.describe()}",
                endpoint=INSTANCES.label,
            )
        return [instance for instance in listing.instances if instance.name == name]

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
        return self._parse(UpstreamInstance, payload, INSTANCE.label)

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
        return self._parse(MigrateResult, payload, MIGRATE.label)

    async def _instance_action(self, route: Route, instance_id: str) -> ActionResult:
        payload = await self._caller.call(route, body={"instanceId": instance_id})
        return self._parse(ActionResult, payload, route.label)

    # Reading answers

    def _parse(self, model: type[M], payload: object, endpoint: str) -> M:
        """:func:`parse_payload`, noting an unreadable answer in :attr:`health`."""
        try:
            return parse_payload(model, payload, endpoint)
        except UpstreamDecodeError as error:
            self.health.record_failure(error)
            raise

    def _report_skipped(self, endpoint: str, skipped: list[SkippedItem]) -> None:
        """Log and count each unreadable list item the first time it is seen."""
        fresh = 0
        for item in skipped:
            key = (endpoint, item.item_id or item.problem)
            if key in self._skips_logged:
                continue
            if len(self._skips_logged) >= _MAX_REMEMBERED_SKIPS:
                self._skips_logged.pop(next(iter(self._skips_logged)))
            self._skips_logged[key] = None
            fresh += 1
            log.warning(
                "upstream.item_skipped",
                endpoint=endpoint,
                item_id=item.item_id,
                index=item.index,
                problem=item.problem,
            )
            if self._on_item_skipped is not None:
                self._on_item_skipped(endpoint)
        self.health.record_skipped(fresh)

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
        page = self._parse(JobPage, payload, JOBS.label)
        self._report_skipped(JOBS.label, page.skipped)
        return page


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _created_at(instance: UpstreamInstance) -> datetime:
    return instance.created_at or _EPOCH
