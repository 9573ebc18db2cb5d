"""The application context: every long-lived resource, built by the composition root (``app.py``)
and closed by the lifespan. Services and jobs receive it; it sits above the infrastructure
packages it holds (database, upstream client, event bus, metrics) and below every service."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx

from novita_gpu.core.clock import Clock
from novita_gpu.core.config import Settings
from novita_gpu.core.singleflight import SingleFlight
from novita_gpu.core.slots import Slots
from novita_gpu.db.engine import Database
from novita_gpu.events.bus import EventBus
from novita_gpu.observability.metrics import Metrics

if TYPE_CHECKING:
    from novita_gpu.catalog import CatalogService
    from novita_gpu.upstream import NovitaClient


class JobRunner(Protocol):
    """The background jobs of this process, seen from below (the reconciler implements it)."""

    async def run_once(self, name: str) -> bool:
        """Claim and run the named job now; False if another replica holds its lease."""
        ...

    def wake(self, name: str) -> None:
        """Run the named job soon instead of at its next interval (no waiting)."""
        ...


@dataclass
class AppContext:
    """Resources shared by handlers and background loops of one app instance."""

    settings: Settings
    clock: Clock
    db: Database
    metrics: Metrics
    upstream_http: httpx.AsyncClient
    upstream: NovitaClient
    catalog: CatalogService
    started_monotonic: float = field(default_factory=time.monotonic)
    bus: EventBus = field(init=False)
    event_streams: Slots = field(init=False)
    """Open SSE streams of this process, at most ``SSE_MAX_STREAMS``."""
    runner: JobRunner | None = None
    """The background jobs of this process, when it runs them."""
    actions_in_flight: SingleFlight = field(default_factory=SingleFlight)
    """Start/stop/delete running now, by (action, instance): identical ones join them."""

    def __post_init__(self) -> None:
        self.bus = EventBus(self.clock)
        self.event_streams = Slots(self.settings.sse_max_streams)

    @property
    def global_webhook_url(self) -> str | None:
        url = self.settings.webhook_url
        return str(url) if url else None

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic
