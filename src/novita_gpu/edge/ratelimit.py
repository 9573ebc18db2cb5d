"""The inbound rate limit: a budget of requests per client, as a GCRA token bucket.

Each client may spend ``max_requests`` at once; the budget refills steadily at
``max_requests`` per ``window_seconds`` (one request every ``window / max_requests``). So
"100 per 15 minutes" allows a burst of 100, then one request every 9 s. The generic cell rate
algorithm keeps a single float per client (its "theoretical arrival time") and gives an exact
``Retry-After``. Which requests are charged is the edge's decision (see
:mod:`novita_gpu.edge.middleware`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

_MAX_CLIENTS = 100_000


class RateLimiter:
    """Per-key budgets in this process; ``charge`` is O(1) and never blocks."""

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_requests = max_requests
        self.window = window_seconds
        self._interval = window_seconds / max_requests
        self._monotonic = monotonic
        self._arrivals: dict[str, float] = {}

    def charge(self, key: str) -> int | None:
        """Count one request for ``key``; None if allowed, else whole seconds to wait."""
        now = self._monotonic()
        arrival = max(self._arrivals.get(key, now), now) + self._interval
        if arrival - now > self.window + 1e-9:
            return max(1, math.ceil(arrival - self.window - now))
        self._arrivals[key] = arrival
        if len(self._arrivals) > _MAX_CLIENTS:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        """Drop clients whose budget is full again (they are indistinguishable from new ones)."""
        self._arrivals = {key: at for key, at in self._arrivals.items() if at > now}
