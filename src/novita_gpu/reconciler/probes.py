"""Readiness probes: is each exposed HTTP port really answering?

Healthy means a 2xx/3xx answer whose body is not a proxy's error page: Novita's proxy (and
the emulator's) answers ``502 Bad Gateway`` pages until the application listens, and some
proxies even wrap such pages in a 200.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

_PROXY_ERROR_MARKERS = (
    "bad gateway",
    "service unavailable",
    "gateway timeout",
    "proxy error",
    "upstream connect error",
    "no healthy upstream",
    "web server is down",
)
_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class ProbeResult:
    port: int
    endpoint: str | None
    healthy: bool
    http_status: int | None
    response_time_ms: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "port": self.port,
            "endpoint": self.endpoint,
            "status": "healthy" if self.healthy else "unhealthy",
            "httpStatus": self.http_status,
            "responseTimeMs": round(self.response_time_ms, 1),
        }
        if self.error:
            result["error"] = self.error
        return result


def looks_like_proxy_error(body: str) -> bool:
    sniff = body[:_SNIFF_BYTES].lower()
    return any(marker in sniff for marker in _PROXY_ERROR_MARKERS)


def _url(endpoint: str) -> str:
    return endpoint if "://" in endpoint else f"http://{endpoint}"


async def probe_http(
    http: httpx.AsyncClient, port: int, endpoint: str | None, timeout: float
) -> ProbeResult:
    """GET ``endpoint`` once; never raises."""
    started = time.perf_counter()
    if not endpoint:
        return ProbeResult(port, endpoint, False, None, 0.0, "no endpoint published yet")
    try:
        response = await http.get(_url(endpoint), timeout=timeout)
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return ProbeResult(
            port, endpoint, False, None, elapsed, f"{type(exc).__name__}: {exc}"[:300]
        )
    elapsed = (time.perf_counter() - started) * 1000
    ok_status = 200 <= response.status_code < 400
    proxy_page = looks_like_proxy_error(response.text)
    error = None if ok_status and not proxy_page else _explain(response.status_code, proxy_page)
    return ProbeResult(port, endpoint, error is None, response.status_code, elapsed, error)


def _explain(status: int, proxy_page: bool) -> str:
    return f"HTTP {status}" + (
        " (proxy error page: the application is not answering)" if proxy_page else ""
    )


async def probe_tcp(port: int, endpoint: str | None, timeout: float) -> ProbeResult:
    """TCP connect to ``host:port``; never raises."""
    started = time.perf_counter()
    target = urlsplit(_url(endpoint)) if endpoint else None
    if target is None or not target.hostname or not target.port:
        return ProbeResult(port, endpoint, False, None, 0.0, "no host:port endpoint published yet")
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(target.hostname, target.port), timeout
        )
    except (OSError, TimeoutError) as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return ProbeResult(port, endpoint, False, None, elapsed, f"connect failed: {exc}"[:300])
    writer.close()
    elapsed = (time.perf_counter() - started) * 1000
    return ProbeResult(port, endpoint, True, None, elapsed)
