"""Prometheus metrics (one registry per app, so several apps can live in one test process)
and the rolling request window behind ``/health``'s performance figures."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(frozen=True)
class WindowSummary:
    requests_per_minute: float
    average_ms: float
    p95_ms: float
    error_rate: float


class RequestWindow:
    """Requests finished in the last ``seconds`` (real monotonic time), for /health."""

    def __init__(self, seconds: float = 60.0, max_samples: int = 50_000) -> None:
        self._seconds = seconds
        self._samples: deque[tuple[float, float, bool]] = deque(maxlen=max_samples)

    def record(self, duration_s: float, is_error: bool) -> None:
        self._samples.append((time.monotonic(), duration_s, is_error))

    def summary(self) -> WindowSummary:
        cutoff = time.monotonic() - self._seconds
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()
        count = len(self._samples)
        if count == 0:
            return WindowSummary(0.0, 0.0, 0.0, 0.0)
        durations = sorted(sample[1] for sample in self._samples)
        errors = sum(1 for sample in self._samples if sample[2])
        p95 = durations[min(count - 1, int(count * 0.95))]
        return WindowSummary(
            requests_per_minute=count * 60.0 / self._seconds,
            average_ms=sum(durations) / count * 1000,
            p95_ms=p95 * 1000,
            error_rate=errors / count,
        )


class Metrics:
    """Every metric the service exports, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.window = RequestWindow()
        r = self.registry
        self.http_requests = Counter(
            "novita_gpu_http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "novita_gpu_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_calls = Counter(
            "novita_gpu_upstream_calls",
            "Upstream (Novita) call attempts",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.upstream_latency = Histogram(
            "novita_gpu_upstream_call_duration_seconds",
            "Upstream call latency",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.breaker_open = Gauge(
            "novita_gpu_upstream_breaker_open",
            "1 when the upstream circuit breaker is open",
            registry=r,
        )
        self.instances_by_status = Gauge(
            "novita_gpu_instances",
            "Managed instances by status",
            ["status"],
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "novita_gpu_webhook_deliveries",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=r,
        )
        self.reconcile_tick = Histogram(
            "novita_gpu_reconcile_tick_seconds",
            "Duration of one reconciler job tick",
            ["job"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.event_to_webhook = Histogram(
            "novita_gpu_event_to_webhook_seconds",
            "From event commit to successful delivery",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

        self.auto_stop_actions = Counter(
            "novita_gpu_auto_stop_actions",
            "Cost-control actions (stop/delete) by reason and outcome",
            ["action", "reason", "outcome"],
            registry=r,
        )
        self.spend_usd_per_hour = Gauge(
            "novita_gpu_spend_usd_per_hour",
            "Hourly price of the managed instances running now (USD)",
            registry=r,
        )
        self.accrued_cost_usd = Gauge(
            "novita_gpu_accrued_cost_usd",
            "Estimated cost so far of every managed instance, tombstones included (USD)",
            registry=r,
        )
        self.saved_by_auto_stop_usd = Gauge(
            "novita_gpu_saved_by_auto_stop_usd",
            "Price x time not run after auto-stops, until the next start (USD)",
            registry=r,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)
        self.window.record(seconds, status >= 500)

    def observe_upstream(self, endpoint: str, outcome: str, seconds: float) -> None:
        """Matches the upstream client's observer callback signature."""
        self.upstream_calls.labels(endpoint, outcome).inc()
        self.upstream_latency.labels(endpoint).observe(seconds)
