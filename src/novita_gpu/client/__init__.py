"""Python SDK for the novita-gpu API: sync and async clients, typed models, typed errors.

    from novita_gpu.client import Client

    with Client() as gpu:  # NOVITA_GPU_URL / NOVITA_GPU_TOKEN, or arguments
        created = gpu.create_instance("trainer", "RTX 4090 24GB", "pytorch-jupyter")
        instance = gpu.wait_for_ready(created.instance_id)
        print(instance.connection_details.jupyter)

Ephemeral instances for jobs (create, wait, SSH, always delete)::

    with Client() as gpu, gpu.ephemeral_instance("RTX 4090 24GB", "pytorch-jupyter") as box:
        box.put("training", "training")
        status = box.run("python training/train.py")

It depends on httpx, pydantic and asyncssh only, never on the server's packages.
"""

from novita_gpu.client._async_client import AsyncClient
from novita_gpu.client._client import Client
from novita_gpu.client._config import DEFAULT_BASE_URL, TOKEN_ENV, URL_ENV, Retries
from novita_gpu.client._ephemeral import AsyncEphemeralInstance, EphemeralOptions
from novita_gpu.client._ephemeral_sync import EphemeralInstance
from novita_gpu.client._errors import (
    AuthenticationError,
    CleanupError,
    CommandTimeout,
    ConflictError,
    InstanceFailedError,
    InvalidResponseError,
    NetworkError,
    NoCapacityError,
    NotFoundError,
    NovitaGPUError,
    RateLimitedError,
    RemoteError,
    SpendLimitError,
    UpstreamError,
    ValidationError,
    WaitError,
    WaitTimeout,
)
from novita_gpu.client._models import (
    ActionResult,
    AutoDelete,
    AutoStop,
    AutoStopCheck,
    AutoStopStats,
    CheckedInstance,
    ConnectionDetails,
    CreateResult,
    Event,
    Health,
    HealthCheck,
    HeartbeatResult,
    Instance,
    InstancePage,
    PortMapping,
    ProbeResult,
    ProductOffer,
    Spend,
    Spot,
    SyncChange,
    SyncResult,
)
from novita_gpu.client._ssh import SSHTarget

__all__ = [
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "URL_ENV",
    "ActionResult",
    "AsyncClient",
    "AsyncEphemeralInstance",
    "AuthenticationError",
    "AutoDelete",
    "AutoStop",
    "AutoStopCheck",
    "AutoStopStats",
    "CheckedInstance",
    "CleanupError",
    "Client",
    "CommandTimeout",
    "ConflictError",
    "ConnectionDetails",
    "CreateResult",
    "EphemeralInstance",
    "EphemeralOptions",
    "Event",
    "Health",
    "HealthCheck",
    "HeartbeatResult",
    "Instance",
    "InstanceFailedError",
    "InstancePage",
    "InvalidResponseError",
    "NetworkError",
    "NoCapacityError",
    "NotFoundError",
    "NovitaGPUError",
    "PortMapping",
    "ProbeResult",
    "ProductOffer",
    "RateLimitedError",
    "RemoteError",
    "Retries",
    "SSHTarget",
    "Spend",
    "SpendLimitError",
    "Spot",
    "SyncChange",
    "SyncResult",
    "UpstreamError",
    "ValidationError",
    "WaitError",
    "WaitTimeout",
]
