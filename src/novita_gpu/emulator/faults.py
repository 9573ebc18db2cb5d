"""Fault rules: which upstream requests misbehave, and how.

A rule matches on the upstream path (``/gpu/instance/create``, with or without the
``/gpu-instance/openapi/v1`` prefix, or ``*``) and optionally the method. It fires on every
match, or with probability ``rate`` (drawn from a generator seeded by ``random_seed``), and at most
``count`` times when set (then it is removed). Kinds:

- ``error``: answer ``status`` (503) with ``reason`` (``UNKNOWN``) in the upstream error body;
- ``rate_limit``: 429 ``RATE_LIMIT_EXCEEDED`` with ``Retry-After: retry_after``;
- ``latency``: wait ``latency_ms`` of *real* time, then serve normally (latency rules add up and
  combine with one other rule). Real time because it models the network, which the caller
  measures with real-time timeouts; on a ``ManualClock`` it would hang until someone advanced it;
- ``timeout``: never answer: hang ``hang_seconds`` of real time or until the caller disconnects
  (a caller still waiting then gets a 504);
- ``drop``: break the connection mid-response before doing anything;
- ``lost_response``: do the operation, then break the connection mid-response;
- ``malformed``: answer 200 with ``message`` as an HTML page instead of JSON (what a proxy or
  an error page in front of the API sends), without doing the operation;
- ``slow_response``: do the operation, then hold the answer ``hang_seconds`` of real time (or
  until the caller disconnects) before sending it: lets a test kill a caller between the
  upstream effect and the caller's own bookkeeping.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field

from novita_gpu.emulator.catalog import CamelModel

API_PREFIXES = ("/gpu-instance/openapi/v1", "/v1")


def upstream_path(path: str) -> str:
    """``/gpu-instance/openapi/v1/gpu/instances`` -> ``/gpu/instances``; others unchanged."""
    for prefix in API_PREFIXES:
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path


class FaultKind(StrEnum):
    ERROR = "error"
    RATE_LIMIT = "rate_limit"
    LATENCY = "latency"
    TIMEOUT = "timeout"
    DROP = "drop"
    LOST_RESPONSE = "lost_response"
    SLOW_RESPONSE = "slow_response"
    MALFORMED = "malformed"


class FaultRule(CamelModel):
    """One fault; see the module docstring. ``id`` and ``hits`` are filled in by the book."""

    id: str = ""
    kind: FaultKind
    path: str = "*"
    method: str | None = None
    rate: float | None = Field(default=None, ge=0, le=1)
    count: int | None = Field(default=None, ge=1)
    status: int = Field(default=503, ge=400, le=599)
    reason: str = "UNKNOWN"
    message: str = "injected fault"
    retry_after: int = Field(default=1, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    hang_seconds: float = Field(default=300, gt=0)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to ``method`` ``path`` (path without API prefix)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path == "*" or upstream_path(self.path) == path


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: extra latency, then at most one other fault."""

    latency_ms: int = 0
    rule: FaultRule | None = None


class FaultBook:
    """The active rules, in insertion order; the first matching non-latency rule wins."""

    def __init__(self, seed: int | None = None) -> None:
        self._rules: dict[str, FaultRule] = {}
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)

    def add(self, rule: FaultRule) -> str:
        """Store a copy of ``rule`` under a new id and return the id."""
        fault_id = f"fault-{next(self._ids)}"
        self._rules[fault_id] = rule.model_copy(update={"id": fault_id, "hits": 0})
        return fault_id

    def remove(self, fault_id: str) -> bool:
        """Remove one rule; ``False`` if there was none with that id."""
        return self._rules.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._rules.clear()

    def rules(self) -> list[FaultRule]:
        return [rule.model_copy() for rule in self._rules.values()]

    def draw(self, method: str, path: str) -> FaultDecision:
        """Decide the faults for one request, consuming ``count`` and ``rate`` draws."""
        latency = 0
        chosen: FaultRule | None = None
        for rule in list(self._rules.values()):
            if not rule.matches(method, path):
                continue
            if rule.kind is not FaultKind.LATENCY and chosen is not None:
                continue
            if not self._fires(rule):
                continue
            if rule.kind is FaultKind.LATENCY:
                latency += rule.latency_ms
            else:
                chosen = rule
        return FaultDecision(latency_ms=latency, rule=chosen)

    def _fires(self, rule: FaultRule) -> bool:
        if rule.rate is not None and self._rng.random() >= rule.rate:
            return False
        rule.hits += 1
        if rule.count is not None:
            rule.count -= 1
            if rule.count == 0:
                del self._rules[rule.id]
        return True
