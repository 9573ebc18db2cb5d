"""One logical call to Novita: breaker, rate limit, concurrency, retries and classification.

:class:`UpstreamCaller` knows nothing about endpoints; :class:`~novita_gpu.upstream.client.
NovitaClient` describes each one as a :class:`Route` and parses what comes back. An attempt
goes through, in order: the circuit breaker (fail fast while open), the token bucket (wait for
a token), the concurrency semaphore (wait for a slot), the HTTP exchange, and classification of
any failure. Between attempts the caller sleeps on the injected clock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import structlog
from pydantic import SecretStr

from novita_gpu import __version__
from novita_gpu.core.clock import Clock
from novita_gpu.upstream.breaker import BreakerState, CircuitBreaker, Permit
from novita_gpu.upstream.classify import decode_success, error_from_exception, error_from_response
from novita_gpu.upstream.errors import (
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransientError,
)
from novita_gpu.upstream.health import UpstreamHealth
from novita_gpu.upstream.limiter import TokenBucket
from novita_gpu.upstream.observer import CallObserver, CallOutcome, outcome_of
from novita_gpu.upstream.policy import UpstreamPolicy
from novita_gpu.upstream.retry import Idempotency, retry_delay

log = structlog.get_logger(__name__)

USER_AGENT = f"novita-gpu/{__version__}"
"""Cloudflare in front of Novita blocks default library user agents (error 1010)."""

QueryValue = str | int | float | bool | None
Query = Mapping[str, QueryValue]


@dataclass(frozen=True, slots=True)
class Route:
    """An upstream endpoint: method, path under ``/v1`` and how safely it repeats."""

    method: str
    path: str
    idempotency: Idempotency

    @property
    def label(self) -> str:
        """``"GET /gpu/instances"``: the name used in errors, logs and metrics."""
        return f"{self.method} {self.path}"


def normalise_base_url(base_url: str) -> str:
    """``https://api.novita.ai/gpu-instance/openapi[/v1][/]`` -> ``.../openapi/v1``."""
    root = base_url.strip().rstrip("/")
    root = root.removesuffix("/v1")
    return f"{root}/v1"


def _query(params: Query | None) -> dict[str, str | int | float | bool]:
    return {key: value for key, value in (params or {}).items() if value is not None}


class UpstreamCaller:
    """Sends calls under the policy's limits. Shares one breaker and limiter across routes."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        policy: UpstreamPolicy,
        clock: Clock,
        rng: random.Random | None = None,
        observer: CallObserver | None = None,
        health: UpstreamHealth | None = None,
    ) -> None:
        self._http = http
        self.health = health if health is not None else UpstreamHealth(clock)
        self.base_url = normalise_base_url(base_url)
        self._api_key = SecretStr(api_key)
        self._policy = policy
        self._clock = clock
        self._rng = rng or random.Random()
        self._observer = observer
        self._timeout = httpx.Timeout(policy.timeout_seconds)
        self._slots = asyncio.Semaphore(policy.max_concurrency)
        self._bucket = TokenBucket(rate=policy.rate_per_second, burst=policy.burst, clock=clock)
        self._breaker = CircuitBreaker(
            failure_threshold=policy.breaker_failure_threshold,
            reset_seconds=policy.breaker_reset_seconds,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"UpstreamCaller(base_url={self.base_url!r})"

    @property
    def breaker_state(self) -> BreakerState:
        """The circuit breaker's state now."""
        return self._breaker.state

    async def call(
        self, route: Route, *, params: Query | None = None, body: object = None
    ) -> object:
        """Make the call, retrying as ``route.idempotency`` allows; return the decoded JSON.

        Raises the last attempt's :class:`~novita_gpu.upstream.errors.UpstreamError`.
        """
        attempt = 1
        while True:
            try:
                return await self._attempt(route, params, body)
            except UpstreamError as error:
                delay = self._delay_before_retry(route, error, attempt)
                if delay is None:
                    raise
            if self._policy.retry_sleep:
                await self._clock.sleep(delay)
            attempt += 1

    def _delay_before_retry(self, route: Route, error: UpstreamError, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None`` to give up."""
        delay = retry_delay(
            error,
            attempt=attempt,
            idempotency=route.idempotency,
            policy=self._policy,
            rng=self._rng,
        )
        if delay is not None:
            log.warning(
                "upstream.retry",
                endpoint=route.label,
                attempt=attempt,
                delay=round(delay, 3),
                error=type(error).__name__,
                status=error.status_code,
            )
        return delay

    async def _attempt(self, route: Route, params: Query | None, body: object) -> object:
        """One attempt under the breaker: transient failures count against it, answers for it."""
        permit = self._admit(route)
        try:
            payload = await self._send_limited(route, params, body)
        except UpstreamRateLimited:
            # Upstream answered: it asks us to slow down, which says nothing against its health.
            self._breaker.record_success(permit)
            raise
        except UpstreamTransientError:
            self._breaker.record_failure(permit)
            raise
        except UpstreamError:
            self._breaker.record_success(permit)
            raise
        except BaseException:
            self._breaker.release(permit)
            raise
        self._breaker.record_success(permit)
        return payload

    def _admit(self, route: Route) -> Permit:
        permit = self._breaker.acquire()
        if permit is None:
            self._observe(route.label, CallOutcome.CIRCUIT_OPEN, 0.0)
            raise UpstreamCircuitOpen(endpoint=route.label, retry_after=self._breaker.retry_after())
        return permit

    async def _send_limited(self, route: Route, params: Query | None, body: object) -> object:
        """Wait for a rate token and a concurrency slot, then send and report the attempt."""
        await self._bucket.acquire()
        async with self._slots:
            started = self._clock.monotonic()
            try:
                payload = await self._exchange(route, params, body)
            except UpstreamError as error:
                self.health.record_failure(error)
                self._observe(route.label, outcome_of(error), self._clock.monotonic() - started)
                raise
            self.health.record_success(route.label)
            self._observe(route.label, CallOutcome.OK, self._clock.monotonic() - started)
            return payload

    async def _exchange(self, route: Route, params: Query | None, body: object) -> object:
        """Send one request. Raises a classified error; the httpx one is not chained, so a
        traceback never shows the request (and its Authorization header)."""
        try:
            response = await self._http.request(
                route.method,
                self.base_url + route.path,
                params=_query(params),
                json=body,
                headers=self._headers(),
                timeout=self._timeout,
            )
        except httpx.RequestError as exc:
            raise error_from_exception(route.label, exc) from None
        if response.is_success:
            return decode_success(route.label, response)
        raise error_from_response(route.label, response, now=self._clock.now())

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._api_key.get_secret_value()}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def _observe(self, endpoint: str, outcome: CallOutcome, seconds: float) -> None:
        if self._observer is None:
            return
        try:
            self._observer(endpoint, outcome, seconds)
        except Exception:
            log.exception("upstream.observer_failed", endpoint=endpoint)
