"""The upstream client: typed, resilient access to Novita's GPU-instance API.

Build a :class:`NovitaClient` around an ``httpx.AsyncClient`` the caller owns::

    client = NovitaClient(http, base_url=url, api_key=key, policy=UpstreamPolicy(), clock=clock)
    listing = await client.read_listing(page_size=100)

Retry and idempotency rules are in :mod:`novita_gpu.upstream.retry`, the error tree in
:mod:`novita_gpu.upstream.errors`, the metrics hook in :mod:`novita_gpu.upstream.observer`.
"""

from novita_gpu.upstream.breaker import BreakerState
from novita_gpu.upstream.client import NovitaClient
from novita_gpu.upstream.create_request import CreateInstanceRequest, ToolSpec
from novita_gpu.upstream.errors import (
    CreateOutcomeUnknown,
    UpstreamAuthError,
    UpstreamCircuitOpen,
    UpstreamConnectionError,
    UpstreamDecodeError,
    UpstreamError,
    UpstreamInsufficientResource,
    UpstreamInvalidState,
    UpstreamNotFound,
    UpstreamPagingError,
    UpstreamRateLimited,
    UpstreamRequestError,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamTransientError,
    UpstreamValidationError,
)
from novita_gpu.upstream.fields import (
    PRICE_UNITS_PER_USD,
    SSHEndpoint,
    parse_ssh_command,
    region_code,
    usd,
)
from novita_gpu.upstream.health import SyncReport, UpstreamCondition, UpstreamHealth
from novita_gpu.upstream.instance_models import (
    ActionResult,
    InstancePage,
    InstanceStatus,
    Job,
    JobPage,
    MigrateResult,
    PortMapping,
    StatusError,
    UpstreamInstance,
)
from novita_gpu.upstream.lenient import SkippedItem
from novita_gpu.upstream.models import (
    Cluster,
    EnvVar,
    PortSpec,
    Product,
    RegistryAuth,
    Template,
    TemplatePage,
)
from novita_gpu.upstream.observer import CallObserver, CallOutcome
from novita_gpu.upstream.paging import InstanceListing
from novita_gpu.upstream.policy import UpstreamPolicy
from novita_gpu.upstream.retry import Idempotency

__all__ = [
    "PRICE_UNITS_PER_USD",
    "ActionResult",
    "BreakerState",
    "CallObserver",
    "CallOutcome",
    "Cluster",
    "CreateInstanceRequest",
    "CreateOutcomeUnknown",
    "EnvVar",
    "Idempotency",
    "InstanceListing",
    "InstancePage",
    "InstanceStatus",
    "Job",
    "JobPage",
    "MigrateResult",
    "NovitaClient",
    "PortMapping",
    "PortSpec",
    "Product",
    "RegistryAuth",
    "SSHEndpoint",
    "SkippedItem",
    "StatusError",
    "SyncReport",
    "Template",
    "TemplatePage",
    "ToolSpec",
    "UpstreamAuthError",
    "UpstreamCircuitOpen",
    "UpstreamCondition",
    "UpstreamConnectionError",
    "UpstreamDecodeError",
    "UpstreamError",
    "UpstreamHealth",
    "UpstreamInstance",
    "UpstreamInsufficientResource",
    "UpstreamInvalidState",
    "UpstreamNotFound",
    "UpstreamPagingError",
    "UpstreamPolicy",
    "UpstreamRateLimited",
    "UpstreamRequestError",
    "UpstreamServerError",
    "UpstreamTimeout",
    "UpstreamTransientError",
    "UpstreamValidationError",
    "parse_ssh_command",
    "region_code",
    "usd",
]
