"""``SPEND_LIMIT_USD_PER_HOUR``: creates and starts that would push the hourly total of
instances that run (or are about to) over the limit are refused with 422."""

from __future__ import annotations

from novita_gpu.context import AppContext
from novita_gpu.core.errors import SpendLimitExceeded
from novita_gpu.instances.repository import InstanceRepository
from novita_gpu.instances.states import COMMITTED_SPEND
from novita_gpu.instances.views import usd


async def ensure_within_spend_limit(ctx: AppContext, added_units: int | None) -> None:
    """Raise :class:`SpendLimitExceeded` if adding ``added_units`` (Novita price units per
    hour) to the committed spend would exceed the limit. No limit set: always allowed."""
    limit = ctx.settings.spend_limit_usd_per_hour
    if limit is None:
        return
    async with ctx.db.read() as session:
        committed = await InstanceRepository(session).committed_spend_units(COMMITTED_SPEND)
    current = usd(committed) or 0.0
    added = usd(added_units) or 0.0
    if current + added > limit:
        raise SpendLimitExceeded(
            f"This would raise spend to ${current + added:.4f}/h, over the ${limit:.4f}/h limit",
            details={"currentUsdPerHour": current, "addedUsdPerHour": added, "limit": limit},
        )
