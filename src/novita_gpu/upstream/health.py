"""What the last calls to Novita say about it: reachable, authorised, answering sensibly.

:class:`UpstreamHealth` is fed by the caller (every attempt's outcome) and the client (answers
that could not be read, items skipped, listing walks). ``/health`` reports it, and each change
of condition is logged once (``upstream.condition_changed``), so a wrong API key gives one clear
line instead of a traceback on every background tick.

Conditions: ``unknown`` (no call yet), ``up``, ``unauthorized`` (401/403: the key),
``unreachable`` (timeouts, refused or dropped connections), ``failing`` (5xx and other transport
failures) and ``malformed`` (2xx bodies that are not the documented shape). A 429 changes
nothing: upstream is there, it asks us to slow down. Other 4xx answers (not found, invalid state)
are sensible answers and count as ``up``. Problems are kept per endpoint, so one endpoint
answering garbage is not hidden by others answering well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import structlog

from novita_gpu.core.clock import Clock
from novita_gpu.upstream.errors import (
    UpstreamAuthError,
    UpstreamCircuitOpen,
    UpstreamConnectionError,
    UpstreamDecodeError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRequestError,
    UpstreamTimeout,
)

if TYPE_CHECKING:
    from novita_gpu.upstream.paging import InstanceListing

log = structlog.get_logger("upstream.health")

API_KEY_HINT = "check NOVITA_API_KEY"


class UpstreamCondition(StrEnum):
    """How Novita looks from here, judged by the latest call."""

    UNKNOWN = "unknown"
    UP = "up"
    UNAUTHORIZED = "unauthorized"
    UNREACHABLE = "unreachable"
    FAILING = "failing"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """The last full listing: when, whether it was complete, and what it saw."""

    at: datetime
    complete: bool
    seen: int
    total: int | None
    skipped: int
    pages: int
    absence_meaningful: bool
    """Complete, and every skipped item had an id: an id missing from it is not upstream."""


def describe_failure(error: UpstreamError) -> tuple[UpstreamCondition, str] | None:
    """The condition an error shows and a message naming the cause; ``None`` when the error
    says nothing about upstream's health (a 429, an open breaker)."""
    if isinstance(error, UpstreamRateLimited | UpstreamCircuitOpen):
        return None
    said = error.upstream_message or error.reason or ""
    detail = f" ({said})" if said else ""
    if isinstance(error, UpstreamAuthError):
        status = error.status_code or "401/403"
        message = f"Novita rejected the API key: HTTP {status}{detail}; {API_KEY_HINT}"
        return UpstreamCondition.UNAUTHORIZED, message
    if isinstance(error, UpstreamRequestError):
        return UpstreamCondition.UP, ""
    if isinstance(error, UpstreamTimeout | UpstreamConnectionError):
        return UpstreamCondition.UNREACHABLE, f"Novita is unreachable: {error}"
    if isinstance(error, UpstreamDecodeError):
        return UpstreamCondition.MALFORMED, f"Novita sent an answer we cannot read: {error}"
    return UpstreamCondition.FAILING, f"Novita calls are failing: {error}"


@dataclass(frozen=True, slots=True)
class _Problem:
    condition: UpstreamCondition
    message: str
    at: datetime


# Worst first: the condition /health shows when several endpoints have problems.
_SEVERITY = (
    UpstreamCondition.UNAUTHORIZED,
    UpstreamCondition.UNREACHABLE,
    UpstreamCondition.FAILING,
    UpstreamCondition.MALFORMED,
)
# A wrong key or a dead route affects every endpoint, so any success clears them.
_GLOBAL = frozenset({UpstreamCondition.UNAUTHORIZED, UpstreamCondition.UNREACHABLE})
PROBLEM_TTL = timedelta(minutes=10)
"""An endpoint-specific problem not seen again for this long is forgotten."""


class UpstreamHealth:
    """Problems per endpoint, the :class:`UpstreamCondition` they add up to, and counters.

    Each failing endpoint keeps its latest problem until that endpoint answers well again (or
    for :data:`PROBLEM_TTL`); a refused key or an unreachable upstream is cleared by any good
    answer. The condition is the worst problem left, ``up`` after a good answer, ``unknown``
    before any call.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._problems: dict[str, _Problem] = {}
        self._shown = UpstreamCondition.UNKNOWN
        self.since: datetime | None = None
        self.last_success_at: datetime | None = None
        self.last_failure_at: datetime | None = None
        self.last_rate_limited_at: datetime | None = None
        self.skipped_items = 0
        self.last_sync: SyncReport | None = None

    def record_success(self, endpoint: str = "") -> None:
        """``endpoint`` got a sensible answer."""
        self.last_success_at = self._clock.now()
        self._problems.pop(endpoint, None)
        for name in [n for n, p in self._problems.items() if p.condition in _GLOBAL]:
            del self._problems[name]
        self._refresh()

    def record_failure(self, error: UpstreamError) -> None:
        """A call failed with ``error``."""
        if isinstance(error, UpstreamRateLimited):
            self.last_rate_limited_at = self._clock.now()
        described = describe_failure(error)
        if described is None:
            return
        condition, message = described
        if condition is UpstreamCondition.UP:
            self.record_success(error.endpoint)
            return
        self.last_failure_at = now = self._clock.now()
        self._problems[error.endpoint] = _Problem(condition, message, now)
        self._refresh()

    @property
    def condition(self) -> UpstreamCondition:
        """The worst current problem, or ``up``/``unknown``."""
        self._refresh()
        return self._shown

    @property
    def message(self) -> str:
        """What the worst current problem says (empty when there is none)."""
        worst = self._worst()
        return worst.message if worst else ""

    def record_skipped(self, count: int) -> None:
        """``count`` list items were unreadable (and skipped) for the first time."""
        self.skipped_items += count

    def record_sync(self, listing: InstanceListing) -> None:
        """The outcome of a full listing walk (status sync)."""
        self.last_sync = SyncReport(
            at=self._clock.now(),
            complete=listing.complete,
            seen=len(listing.instances),
            total=listing.total,
            skipped=len(listing.skipped),
            pages=listing.pages,
            absence_meaningful=listing.absence_is_meaningful,
        )

    @property
    def is_failing(self) -> bool:
        """True when some endpoint has a current problem."""
        return self.condition not in (UpstreamCondition.UP, UpstreamCondition.UNKNOWN)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready report for ``/health``."""
        condition = self.condition
        sync = self.last_sync
        return {
            "condition": condition.value,
            "message": self.message or None,
            "since": _iso(self.since),
            "problems": {
                endpoint: {"condition": p.condition.value, "message": p.message, "at": _iso(p.at)}
                for endpoint, p in self._problems.items()
            },
            "lastSuccessAt": _iso(self.last_success_at),
            "lastFailureAt": _iso(self.last_failure_at),
            "lastRateLimitedAt": _iso(self.last_rate_limited_at),
            "skippedItems": self.skipped_items,
            "lastSync": None if sync is None else _sync_report(sync),
        }

    def _worst(self) -> _Problem | None:
        cutoff = self._clock.now() - PROBLEM_TTL
        current = [p for p in self._problems.values() if p.at >= cutoff]
        return min(current, key=lambda p: _SEVERITY.index(p.condition), default=None)

    def _refresh(self) -> None:
        worst = self._worst()
        if worst is not None:
            condition = worst.condition
        elif self.last_success_at is not None:
            condition = UpstreamCondition.UP
        else:
            condition = UpstreamCondition.UNKNOWN
        if condition is self._shown:
            return
        previous, self._shown = self._shown, condition
        self.since = self._clock.now()
        _log_change(previous, condition, worst.message if worst else "")


def _log_change(previous: UpstreamCondition, condition: UpstreamCondition, message: str) -> None:
    """One line per change of condition: a warning into trouble, info out of it."""
    if condition is UpstreamCondition.UP:
        if previous is not UpstreamCondition.UNKNOWN:
            log.info("upstream.condition_changed", previous=previous.value, condition="up")
        return
    log.warning(
        "upstream.condition_changed",
        previous=previous.value,
        condition=condition.value,
        reason=message,
    )


def _sync_report(sync: SyncReport) -> dict[str, Any]:
    return {
        "at": _iso(sync.at),
        "complete": sync.complete,
        "seen": sync.seen,
        "total": sync.total,
        "skipped": sync.skipped,
        "pages": sync.pages,
        "absenceMeaningful": sync.absence_meaningful,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
