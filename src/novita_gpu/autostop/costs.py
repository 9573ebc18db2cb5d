"""Spend and savings: what runs now costs per hour, what has been spent, what auto-stop saved.

Saved money is the price of an auto-stopped instance times the time it stayed stopped after the
auto-stop, until its next start (or its delete): what it would have cost had it kept running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from novita_gpu.autostop.repository import CostRepository, CostRows
from novita_gpu.context import AppContext
from novita_gpu.instances.views import usd


@dataclass(frozen=True)
class Spend:
    running_usd_per_hour: float
    running_instances: int
    accrued_cost_usd: float
    saved_by_auto_stop_usd: float

    def as_json(self) -> dict[str, Any]:
        return {
            "runningUsdPerHour": round(self.running_usd_per_hour, 6),
            "runningInstances": self.running_instances,
            "accruedCostUsd": round(self.accrued_cost_usd, 6),
            "savedByAutoStopUsd": round(self.saved_by_auto_stop_usd, 6),
        }


def _unit_seconds(spans: Sequence[tuple[datetime, int]], now: datetime) -> float:
    return sum((max(0.0, (now - start).total_seconds()) * units for start, units in spans), 0.0)


def spend_from(rows: CostRows, now: datetime) -> Spend:
    cost_units = rows.closed_cost + _unit_seconds(rows.open_runs, now)
    saved_units = rows.closed_saved + _unit_seconds(rows.open_savings, now)
    return Spend(
        running_usd_per_hour=usd(rows.running_units) or 0.0,
        running_instances=rows.running_count,
        accrued_cost_usd=(usd(round(cost_units)) or 0.0) / 3600,
        saved_by_auto_stop_usd=(usd(round(saved_units)) or 0.0) / 3600,
    )


async def current_spend(ctx: AppContext) -> Spend:
    """The figures now; also refreshes the matching Prometheus gauges."""
    async with ctx.db.read() as session:
        rows = await CostRepository(session).cost_rows()
    spend = spend_from(rows, ctx.clock.now())
    ctx.metrics.spend_usd_per_hour.set(spend.running_usd_per_hour)
    ctx.metrics.accrued_cost_usd.set(spend.accrued_cost_usd)
    ctx.metrics.saved_by_auto_stop_usd.set(spend.saved_by_auto_stop_usd)
    return spend
