"""One webhook HTTP attempt: POST the body, observe the answer, never raise for the network.

Every failure a receiver or the network can cause comes back as a :class:`SendResult`: a
timeout (the whole attempt, connect to last byte read, is bounded by ``WEBHOOK_TIMEOUT``), a
connection error, a refused target, or an HTTP status. Only programming errors escape.
Redirects are not followed (a 3xx is an answer like any other non-2xx).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from novita_gpu.core.clock import Clock
from novita_gpu.core.targets import Resolver, TargetRefused, pin, resolve
from novita_gpu.upstream.retry import parse_retry_after
from novita_gpu.webhooks.policy import SendResult
from novita_gpu.webhooks.states import AttemptOutcome

EXCERPT_BYTES = 2048
EXCERPT_CHARS = 1000


@dataclass
class WebhookSender:
    http: httpx.AsyncClient
    clock: Clock
    timeout_seconds: float
    allow_private_networks: bool = True
    resolver: Resolver = resolve

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        """POST ``body`` to ``url``; the outcome, status, excerpt and duration of the attempt."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_seconds):
                if not self.allow_private_networks:
                    target = await pin(url, self.resolver)
                    url, headers = target.url, {**headers, "Host": target.host_header}
                    return await self._post(url, headers, body, started, target.extensions)
                return await self._post(url, headers, body, started)
        except TargetRefused as exc:
            return _failure(AttemptOutcome.REFUSED, str(exc), started)
        except (TimeoutError, httpx.TimeoutException):
            message = f"no answer within {int(self.timeout_seconds * 1000)} ms"
            return _failure(AttemptOutcome.TIMEOUT, message, started)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return _failure(AttemptOutcome.REFUSED, f"invalid webhook URL: {exc}", started)
        except (httpx.TransportError, OSError) as exc:
            message = f"{type(exc).__name__}: {exc}".rstrip(": ")
            return _failure(AttemptOutcome.NETWORK_ERROR, message, started)

    async def _post(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        started: float,
        extensions: dict[str, str] | None = None,
    ) -> SendResult:
        request = self.http.build_request(
            "POST", url, content=body, headers=headers, extensions=extensions
        )
        response = await self.http.send(request, stream=True)
        try:
            excerpt = await _read_excerpt(response)
        finally:
            await response.aclose()
        code = response.status_code
        ok = 200 <= code <= 299
        return SendResult(
            outcome=AttemptOutcome.SUCCESS if ok else AttemptOutcome.HTTP_ERROR,
            duration_ms=_elapsed_ms(started),
            status_code=code,
            response_excerpt=excerpt,
            retry_after=None if ok else self._retry_after(response),
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"), self.clock.now())


async def _read_excerpt(response: httpx.Response) -> str | None:
    """The start of the response body as text (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= EXCERPT_BYTES:
            break
    text = b"".join(chunks)[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS] or None


def _failure(outcome: AttemptOutcome, error: str, started: float) -> SendResult:
    return SendResult(outcome=outcome, duration_ms=_elapsed_ms(started), error=error)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
