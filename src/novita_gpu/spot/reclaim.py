"""What the status sync does with a spot instance's ``spotStatus``/``spotReclaimTime``.

- The first time upstream announces a reclaim (``notified``, ``reclaiming`` or already
  ``terminated``), ``instance.spot_reclaim_notice`` is recorded with the reclaim time, once:
  ``spot_notice_sent`` commits with the event and is re-armed when the instance runs again.
- When the reclaim completes (upstream ``exited`` with ``spotStatus`` reclaiming/terminated),
  the instance becomes ``stopped`` with the reason in ``lastError``, and ``spotRecovery``
  decides what follows: ``none`` (or recovery turned off) leaves it there; ``migrate`` and
  ``recreate`` mark it ``pending`` for the recovery job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from novita_gpu.db.models import Instance
from novita_gpu.events.types import EventType
from novita_gpu.instances.states import Status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import UnitOfWork
from novita_gpu.instances.views import iso
from novita_gpu.observability.metrics import Metrics
from novita_gpu.spot.phases import ANNOUNCED, RECLAIMED, Phase, outcome


@dataclass(frozen=True)
class ReclaimPolicy:
    """``MIGRATION_ENABLED`` and where reclaims are counted."""

    enabled: bool
    metrics: Metrics | None = None


async def announce(uow: UnitOfWork, instance: Instance) -> None:
    """Record the reclaim notice once per reclaim (see the module docstring)."""
    spot = instance.spot_status or ""
    if spot in ANNOUNCED and not instance.spot_notice_sent:
        instance.spot_notice_sent = True
        data = {"spotStatus": spot, "reclaimTime": iso(instance.spot_reclaim_time)}
        await change_status(
            uow.recorder,
            instance,
            Status(instance.status),
            event_type=EventType.SPOT_RECLAIM_NOTICE,
            data=data,
        )
    elif spot == "running" and instance.spot_notice_sent and instance.recovery_phase is None:
        instance.spot_notice_sent = False


def _is_reclaim(instance: Instance, status: Status) -> bool:
    """The instance is stopping for good because upstream took it back (not our stop)."""
    return (
        status == Status.STOPPED
        and Status(instance.status) != Status.STOPPED
        and (instance.spot_status or "") in RECLAIMED
        and instance.recovery_phase is None
    )


def _verdict(instance: Instance, policy: ReclaimPolicy) -> tuple[str, Phase | None, str]:
    mode = instance.spot_recovery
    if mode not in ("migrate", "recreate"):
        return "spotRecovery is none, so it stays stopped", None, "stopped"
    if not policy.enabled:
        return "spot recovery is turned off (MIGRATION_ENABLED=false)", None, "disabled"
    return f"recovery by {mode} is scheduled", Phase.PENDING, "pending"


async def fold_spot(
    uow: UnitOfWork, instance: Instance, status: Status, policy: ReclaimPolicy
) -> bool:
    """Announce a reclaim, and apply ``status`` itself when it is a reclaim's end.

    Returns True when the status change was made here (the caller makes it otherwise).
    """
    await announce(uow, instance)
    if not _is_reclaim(instance, status):
        return False
    detail, phase, result = _verdict(instance, policy)
    now = uow.recorder.clock.now()
    instance.recovery_phase = phase
    instance.recovery_attempts = 0
    instance.last_recovery = outcome(instance.spot_recovery, result, now)
    data: dict[str, Any] = {"reason": "spot_reclaim", "spotRecovery": instance.spot_recovery}
    await change_status(
        uow.recorder,
        instance,
        status,
        data=data,
        error=f"Novita reclaimed the spot instance; {detail}",
    )
    if policy.metrics is not None:
        policy.metrics.spot_recoveries.labels("reclaim").inc()
    return True
