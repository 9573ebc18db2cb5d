"""What the last calls to Novita say about it: reachable, authorised, answering sensibly.

:class:`UpstreamHealth` is fed by the caller (every attempt's outcome) and the client (answers
that could not be read, items skipped, listing walks). ``/health`` reports it, and each change
of condition is logged once (``upstream.condition_changed``), so a wrong API key gives one clear
line instead of a traceback on every background tick.

Conditions: ``unknown`` (no call yet), ``up``, ``unauthorized`` (401/403: the key),
``unreachable`` (timeouts, refused or dropped connections), ``failing`` (5xx and other transport
failures) and ``malformed`` (2xx bodies that are not the documented shape). A 429 changes
nothing: upstream is there, it asks us to slow down. Other 4xx answers (not found, invalid state)
are sensible answers and count as ``up``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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


class UpstreamHealth:
    """The current :class:`UpstreamCondition` with its message, and a few counters."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.condition = UpstreamCondition.UNKNOWN
        self.message = ""
        self.since: datetime | None = None
        self.last_success_at: datetime | None = None
        self.last_failure_at: datetime | None = None
        self.last_rate_limited_at: datetime | None = None
        self.skipped_items = 0
        self.last_sync: SyncReport | None = None

    def record_success(self) -> None:
        """A call got a sensible answer."""
        self.last_success_at = self._clock.now()
        self._become(UpstreamCondition.UP, "")

    def record_failure(self, error: UpstreamError) -> None:
        """A call failed with ``error``."""
        if isinstance(error, UpstreamRateLimited):
            self.last_rate_limited_at = self._clock.now()
        described = describe_failure(error)
        if described is None:
            return
        condition, message = described
        if condition is UpstreamCondition.UP:
            self.record_success()
            return
        self.last_failure_at = self._clock.now()
        self._become(condition, message)

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
        """True when the latest call showed a problem."""
        return self.condition not in (UpstreamCondition.UP, UpstreamCondition.UNKNOWN)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready report for ``/health``."""
        sync = self.last_sync
        return {
            "condition": self.condition.value,
            "message": self.message or None,
            "since": _iso(self.since),
            "lastSuccessAt": _iso(self.last_success_at),
            "lastFailureAt": _iso(self.last_failure_at),
            "lastRateLimitedAt": _iso(self.last_rate_limited_at),
            "skippedItems": self.skipped_items,
            "lastSync": None
            if sync is None
            else {
                "at": _iso(sync.at),
                "complete": sync.complete,
                "seen": sync.seen,
                "total": sync.total,
                "skipped": sync.skipped,
                "pages": sync.pages,
                "absenceMeaningful": sync.absence_meaningful,
            },
        }

    def _become(self, condition: UpstreamCondition, message: str) -> None:
        if condition is self.condition and message == self.message:
            return
        previous = self.condition
        self.condition, self.message = condition, message
        if condition is not previous:
            self.since = self._clock.now()
            self._log_change(previous, condition, message)

    @staticmethod
    def _log_change(
        previous: UpstreamCondition, condition: UpstreamCondition, message: str
    ) -> None:
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


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
