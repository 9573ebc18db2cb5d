"""The application factory.

``create_app(settings)`` builds the FastAPI app; its lifespan owns every resource (database
engine, upstream HTTP client, background loops) and closes them in reverse order. Nothing
connects at import time, and tests pass their own settings, clock and upstream transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TypedDict

import httpx
import psutil
from fastapi import Depends, FastAPI
from starlette.middleware.cors import CORSMiddleware

from novita_gpu import __version__
from novita_gpu.auth.principal import KnownToken, TokenSource
from novita_gpu.auth.scopes import method_scope
from novita_gpu.auth.tokens import TokenRepository
from novita_gpu.autostop.router import router as autostop_router
from novita_gpu.catalog import CatalogService
from novita_gpu.catalog.router import router as catalog_router
from novita_gpu.context import AppContext
from novita_gpu.core.clock import Clock, SystemClock
from novita_gpu.core.config import Settings
from novita_gpu.core.http_errors import install_error_handlers
from novita_gpu.core.openapi import install_openapi
from novita_gpu.core.tls import client_ssl_context
from novita_gpu.db.engine import Database
from novita_gpu.db.migrate import ensure_schema
from novita_gpu.db.notify import CommitListener
from novita_gpu.edge.app import EdgeApp
from novita_gpu.edge.middleware import Edge
from novita_gpu.edge.ratelimit import RateLimiter
from novita_gpu.events.router import router as events_router
from novita_gpu.instances.fast_reads import FastReads
from novita_gpu.instances.router import router as instances_router
from novita_gpu.observability import health
from novita_gpu.observability.metrics import Metrics
from novita_gpu.observability.metrics_router import router as metrics_router
from novita_gpu.reconciler.router import router as sync_router
from novita_gpu.reconciler.runner import Runner
from novita_gpu.reconciler.schedule import default_jobs
from novita_gpu.request_guards import no_nul_bytes
from novita_gpu.spot.router import router as spot_router
from novita_gpu.upstream import NovitaClient, UpstreamPolicy
from novita_gpu.web import install_web
from novita_gpu.webhooks.dispatcher import run_webhook_dispatcher
from novita_gpu.webhooks.router import router as webhooks_router


class State(TypedDict):
    ctx: AppContext


@dataclass
class AppOptions:
    """Test and embedding hooks for :func:`create_app`; production uses the defaults."""

    clock: Clock = field(default_factory=SystemClock)
    upstream_transport: httpx.AsyncBaseTransport | None = None
    upstream_policy: UpstreamPolicy | None = None
    migrate: bool = True
    background: bool = True
    serving: asyncio.Event | None = None
    """When given, background jobs start once it is set (``serve`` sets it when the server
    accepts connections, so the first requests do not queue behind the jobs' first runs)."""
    on_ready: list[Callable[[AppContext], None]] = field(default_factory=list)


def upstream_policy(settings: Settings) -> UpstreamPolicy:
    """The upstream client's retry, timeout, concurrency and breaker settings."""
    return UpstreamPolicy(
        timeout_seconds=settings.upstream_timeout_seconds,
        max_attempts=settings.max_retry_attempts,
        max_concurrency=settings.upstream_max_concurrency,
        rate_per_second=settings.upstream_rate_per_second,
        burst=settings.upstream_burst,
    )


UPSTREAM_KEEPALIVE_SECONDS = 4.0


def _upstream_http(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=settings.upstream_max_concurrency * 2,
        max_keepalive_connections=settings.upstream_max_concurrency,
        # Below the 5 s idle timeout common servers use: a connection the server is closing
        # as a create goes out makes that create's outcome unknown (found again by name, but
        # slower).
        keepalive_expiry=UPSTREAM_KEEPALIVE_SECONDS,
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=settings.upstream_timeout_seconds,
        limits=limits,
        verify=client_ssl_context(),
    )


def _api_key(settings: Settings) -> str:
    key = settings.novita_api_key
    # The emulator accepts any non-empty Bearer key.
    return key.get_secret_value() if key else "emulator"


async def _build_context(
    settings: Settings, options: AppOptions, metrics: Metrics, stack: AsyncExitStack
) -> AppContext:
    if options.migrate:
        await ensure_schema(settings.database_url)
    db = Database.from_url(settings.database_url)
    stack.push_async_callback(db.dispose)
    http = _upstream_http(settings, options.upstream_transport)
    stack.push_async_callback(http.aclose)
    upstream = NovitaClient(
        http,
        base_url=str(settings.novita_api_base_url),
        api_key=_api_key(settings),
        policy=options.upstream_policy or upstream_policy(settings),
        clock=options.clock,
        observer=metrics.observe_upstream,
        on_item_skipped=metrics.observe_skipped_item,
    )
    catalog = CatalogService(
        upstream,
        options.clock,
        ttl_seconds=settings.catalog_cache_ttl,
        default_region=settings.default_region,
    )
    return AppContext(settings, options.clock, db, metrics, http, upstream, catalog)


def _start_background(runner: Runner, serving: asyncio.Event | None, stack: AsyncExitStack) -> None:
    if serving is None:
        runner.start()
        return

    async def start_when_serving() -> None:
        await serving.wait()
        runner.start()

    starter = asyncio.create_task(start_when_serving(), name="start-background")
    stack.callback(starter.cancel)  # runs before runner.stop: nothing starts while stopping


def create_app(settings: Settings, options: AppOptions | None = None) -> FastAPI:
    """Build the app. Resources are created when the lifespan starts, not here."""
    opts = options or AppOptions()
    metrics = Metrics()
    contexts: list[AppContext] = []

    async def database_tokens() -> list[KnownToken]:
        if not contexts:
            return []
        async with contexts[0].db.read() as session:
            rows = await TokenRepository(session).active_identities()
        return [KnownToken(*row) for row in rows]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            ctx = await _build_context(settings, opts, metrics, stack)
            contexts.append(ctx)
            stack.callback(contexts.clear)
            # Runs before the database closes: open SSE streams finish.
            stack.callback(ctx.bus.close)
            if ctx.db.dialect == "postgresql":
                listener = CommitListener(settings.database_url, ctx.bus.notify)
                listener.start()
                stack.push_async_callback(listener.stop)
            psutil.cpu_percent(interval=None)  # prime the CPU sampler for /health
            if opts.background:
                runner = Runner(ctx, default_jobs(settings), [run_webhook_dispatcher])
                ctx.runner = runner
                stack.push_async_callback(runner.stop)
                _start_background(runner, opts.serving, stack)
            for hook in opts.on_ready:
                hook(ctx)
            yield {"ctx": ctx}

    app = EdgeApp(
        title="novita-gpu",
        version=__version__,
        description="Self-hosted control plane for GPU instances on Novita.ai",
        lifespan=lifespan,
        dependencies=[Depends(no_nul_bytes), Depends(method_scope)],
        # Our metrics are Prometheus'; FastAPI's OpenTelemetry hooks cost time per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Replaced by install_web's pages, which load their assets from the package.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(catalog_router)
    # Fixed paths under /api/instances go before the instance routes' /{instanceId}.
    app.include_router(autostop_router)
    app.include_router(sync_router)
    app.include_router(spot_router)
    app.include_router(instances_router)
    app.include_router(events_router)
    app.include_router(webhooks_router)
    install_web(app)
    _add_middleware(app, settings, metrics, TokenSource(settings.api_tokens, database_tokens))
    return app


def _add_middleware(
    app: EdgeApp, settings: Settings, metrics: Metrics, tokens: TokenSource
) -> None:
    """Outside FastAPI's own stack, outermost first: CORS (so that browsers can read refusals
    too), the request edge, then the rendered fast path of the hottest reads."""
    limiter = RateLimiter(settings.rate_limit_max_requests, settings.rate_limit_window_ms / 1000)
    app.outer_layers.append(FastReads)
    app.outer_layers.append(
        partial(
            Edge,
            tokens=tokens,
            limiter=limiter,
            metrics=metrics,
            max_body_bytes=settings.max_body_bytes,
        )
    )
    if settings.enable_cors and settings.allowed_origins:
        app.outer_layers.append(
            partial(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST", "PUT", "DELETE"],
                allow_headers=[
                    "Authorization",
                    "X-API-Key",
                    "Content-Type",
                    "Idempotency-Key",
                    "X-Request-ID",
                    "Last-Event-ID",
                ],
                expose_headers=["X-Request-ID", "X-Wait-Result", "Retry-After"],
            )
        )


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: settings from the environment.

    The parent process applied migrations before starting the workers.
    """
    from novita_gpu.core.config import load_settings
    from novita_gpu.observability.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, AppOptions(migrate=False))
