"""The durable steps of one spot recovery (``instances.recovery_phase``) and its record.

Every step is committed before the upstream call it leads to, so after a crash the follow-up
job knows what may already have happened upstream:

``pending``        reclaimed; the recovery job will start the instance's ``spotRecovery`` mode
``migrate_sent``   an upstream migrate is (being) sent; its job id is not known yet
``migrating``      the migration job ``migration_job_id`` runs upstream
``recreating``     a create of the same spec is (being) sent; found again by name after a crash
``cleanup``        the new instance is recorded; the reclaimed one is still to be deleted
``failed``         recovery gave up for now; ``check-failed`` and the recovery job retry it
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from novita_gpu.instances.views import iso


class Phase(StrEnum):
    PENDING = "pending"
    MIGRATE_SENT = "migrate_sent"
    MIGRATING = "migrating"
    RECREATING = "recreating"
    CLEANUP = "cleanup"
    FAILED = "failed"


#: Phases the fast follow-up job advances.
IN_FLIGHT = (Phase.MIGRATE_SENT, Phase.MIGRATING, Phase.RECREATING, Phase.CLEANUP)
#: Phases the (interval) recovery job starts or retries.
TO_START = (Phase.PENDING, Phase.FAILED)
#: Spot sub-states that announce a reclaim, and those after which the instance is gone.
ANNOUNCED = frozenset({"notified", "reclaiming", "terminated"})
RECLAIMED = frozenset({"reclaiming", "terminated"})
#: A recovery that failed this often is left ``failed`` for a person to look at.
MAX_RECOVERY_ATTEMPTS = 3


def outcome(mode: str, result: str, at: datetime, **extra: Any) -> dict[str, Any]:
    """The ``spot.lastRecovery`` record: mode, result, when, and any details given."""
    return {"mode": mode, "outcome": result, "at": iso(at), **extra}
