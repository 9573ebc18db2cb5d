"""All SQL of cost control: the figures behind spend and savings, and the check's last result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from novita_gpu.db.models import Instance, Lease
from novita_gpu.instances.states import ACCRUING


@dataclass(frozen=True)
class CostRows:
    """Closed spans summed in SQL (price units x seconds), open spans as (start, price units)."""

    running_units: int
    running_count: int
    closed_cost: float
    closed_saved: float
    open_runs: Sequence[tuple[datetime, int]]
    open_savings: Sequence[tuple[datetime, int]]


class CostRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cost_rows(self) -> CostRows:
        """Everything :mod:`novita_gpu.autostop.costs` needs, in four small queries."""
        price = func.coalesce(Instance.price_units, 0)
        running = Instance.status.in_([s.value for s in ACCRUING]) & Instance.deleted_at.is_(None)
        totals = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(Instance.runtime_seconds * price), 0.0),
                    func.coalesce(func.sum(Instance.saved_seconds * price), 0.0),
                )
            )
        ).one()
        open_runs = (
            await self.session.execute(
                select(Instance.running_since, price).where(
                    running, Instance.running_since.is_not(None)
                )
            )
        ).all()
        open_savings = (
            await self.session.execute(
                select(Instance.auto_stopped_at, price).where(Instance.auto_stopped_at.is_not(None))
            )
        ).all()
        return CostRows(
            running_units=sum(int(units) for _, units in open_runs),
            running_count=len(open_runs),
            closed_cost=float(totals[0]),
            closed_saved=float(totals[1]),
            open_runs=[(start, int(units)) for start, units in open_runs if start is not None],
            open_savings=[
                (start, int(units)) for start, units in open_savings if start is not None
            ],
        )


class CheckResultRepository:
    """The auto-stop job's last result lives on its lease row (shared by every replica)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, lease_name: str, result: dict[str, Any]) -> None:
        await self.session.execute(
            update(Lease).where(Lease.name == lease_name).values(last_result=result)
        )

    async def lease(self, lease_name: str) -> Lease | None:
        return await self.session.get(Lease, lease_name)
