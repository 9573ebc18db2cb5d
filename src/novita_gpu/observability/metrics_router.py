"""``GET /metrics`` (Prometheus text) and ``GET /api/metrics`` (the same figures as JSON).

Gauges that describe stored state (instances by status, breaker) are refreshed on each scrape.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from novita_gpu.autostop.costs import current_spend
from novita_gpu.context import AppContext
from novita_gpu.deps import ContextDep
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import Status

router = APIRouter(tags=["health"])


async def _refresh_gauges(ctx: AppContext) -> None:
    async with ctx.db.read() as session:
        counts = await InstanceRepository(session).count_by_status()
    for status in Status:
        ctx.metrics.instances_by_status.labels(status.value).set(counts.get(status.value, 0))
    ctx.metrics.breaker_open.set(1 if ctx.upstream.breaker_state == "open" else 0)
    await current_spend(ctx)  # spend, accrued cost and auto-stop savings gauges


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus(ctx: ContextDep) -> Response:
    """Every metric in the Prometheus text format, for scraping."""
    await _refresh_gauges(ctx)
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/metrics", summary="The Prometheus figures as JSON")
async def metrics_json(ctx: ContextDep) -> dict[str, Any]:
    """The same metric families as ``/metrics``: ``{"metrics": {name: {type, help, samples}}}``."""
    await _refresh_gauges(ctx)
    families: dict[str, Any] = {}
    for family in ctx.metrics.registry.collect():
        families[family.name] = {
            "type": family.type,
            "help": family.documentation,
            "samples": [
                {"name": sample.name, "labels": sample.labels, "value": sample.value}
                for sample in family.samples
            ],
        }
    return {"metrics": families}
