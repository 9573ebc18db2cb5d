"""Delivery statuses and attempt outcomes, as stored in the outbox tables.

A delivery moves ``pending`` -> ``delivering`` (leased by one dispatcher) -> ``succeeded`` or
back to ``pending`` (a retry is scheduled) or ``failed`` (final: a non-retryable answer, the
attempt budget or the retry window is spent, or the target is refused). A ``failed`` delivery
goes back to ``pending`` only when re-queued by hand.
"""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    """What one HTTP attempt came to (``webhook_attempts.outcome``)."""

    SUCCESS = "success"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class DeliveryTarget(StrEnum):
    INSTANCE = "instance"
    GLOBAL = "global"


UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING)
