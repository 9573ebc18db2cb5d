"""Finding the upstream instance a create made, when the create's answer was lost.

Creates send the local id as an environment variable (:data:`MARKER_ENV`), so an upstream
instance is ours only if it has our name *and* our marker; an older instance that happens to
share the name (a deleted predecessor, someone else's) is never mistaken for it. When the list
does not carry envs, the creation time must not predate our first create attempt. A spot
recreate looks its new instance up the same way, past the upstream ids the row already knows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from novita_gpu.db.models import Instance
from novita_gpu.upstream import NovitaClient, UpstreamInstance

MARKER_ENV = "NOVITA_GPU_INSTANCE_ID"
# Upstream and local clocks differ; allow this much skew when comparing creation times.
_CLOCK_SKEW = timedelta(minutes=5)
_NEVER = datetime.max.replace(tzinfo=UTC)


def carries_marker(candidate: UpstreamInstance, instance_id: str) -> bool | None:
    """True/False when the candidate lists envs, None when it lists none (cannot tell)."""
    if not candidate.envs:
        return None
    return any(env.key == MARKER_ENV and env.value == instance_id for env in candidate.envs)


def _created_after(candidate: UpstreamInstance, since: datetime | None) -> bool:
    if since is None or candidate.created_at is None:
        return True
    return candidate.created_at >= since - _CLOCK_SKEW


def is_ours(candidate: UpstreamInstance, instance: Instance) -> bool:
    """Whether ``candidate`` is the instance a create for ``instance`` made. Instances the row
    already knows (its current id, a reclaimed spot predecessor) carry the same name and marker
    but are never the new one."""
    if candidate.name != instance.name or candidate.is_removed:
        return False
    if candidate.id in (instance.novita_instance_id, instance.reclaimed_novita_id):
        return False
    marker = carries_marker(candidate, instance.id)
    if marker is not None:
        return marker
    return _created_after(candidate, instance.created_at)


async def locate_created(upstream: NovitaClient, instance: Instance) -> UpstreamInstance | None:
    """The upstream instance created for ``instance``, if one exists.

    Raises the upstream client's errors (the caller decides whether to try again later).
    """
    candidates = await upstream.find_instances_by_name(instance.name)
    ours = [candidate for candidate in candidates if is_ours(candidate, instance)]
    ours.sort(key=lambda candidate: candidate.created_at or _NEVER)
    return ours[0] if ours else None
