"""What the sync and async clients share: configuration, request building, response decoding,
error mapping and retry decisions. Everything here is free of I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx

from novita_gpu import __version__
from novita_gpu.client import _calls as calls
from novita_gpu.client._config import (
    DEFAULT_TIMEOUT,
    Retries,
    parse_retry_after,
    resolve_base_url,
    resolve_token,
)
from novita_gpu.client._errors import (
    InstanceFailedError,
    NetworkError,
    NovitaGPUError,
    WaitTimeout,
    _RetryAfterError,
    error_class,
)
from novita_gpu.client._models import Instance

T = TypeVar("T")
USER_AGENT = f"novita-gpu-python/{__version__}"
# The pause before asking again when a long-poll answered "timeout" much sooner than asked
# (a server without long-poll, or a proxy cutting the request short).
MIN_POLL_INTERVAL = 1.0


class BaseClient:
    """Settings shared by :class:`Client` and :class:`AsyncClient`.

    ``base_url`` defaults to ``NOVITA_GPU_URL`` then ``http://127.0.0.1:3000``; ``token`` to
    ``NOVITA_GPU_TOKEN`` (sent as ``Authorization: Bearer``). ``timeout`` is per request, in
    seconds; long-polls get their wait added on top.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.timeout = timeout
        self.retries = retries or Retries()
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        token = resolve_token(token)
        self.token = token
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request_args(self, call: calls.Call[Any]) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.build_request`` for ``call``."""
        args: dict[str, Any] = {
            "method": call.method,
            "url": self.url(call.path),
            "params": call.params or None,
            "headers": {**self.headers, **call.headers},
            "timeout": httpx.Timeout(self.timeout, read=self.timeout + call.wait_seconds),
        }
        if call.json is not None:
            args["json"] = call.json
        return args

    def stream_args(
        self, last_event_id: str | None, instance_id: str | None, types: Sequence[str] | None
    ) -> dict[str, Any]:
        """``httpx.Client.stream`` arguments for ``GET /api/events`` (no read timeout)."""
        headers = {**self.headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        params = {"instanceId": instance_id, "types": ",".join(types) if types else None}
        return {
            "method": "GET",
            "url": self.url("/api/events"),
            "params": {key: value for key, value in params.items() if value},
            "headers": headers,
            "timeout": httpx.Timeout(self.timeout, read=None),
        }

    def stream_ended(self) -> NetworkError:
        return NetworkError(f"event stream from {self.base_url} ended", code="NETWORK_ERROR")

    # Responses

    def result(self, call: calls.Call[T], response: httpx.Response) -> T:
        """``call``'s parsed result, or the mapped :class:`NovitaGPUError` raised."""
        if response.is_success:
            return call.parse(response)
        raise self.error(response)

    def error(self, response: httpx.Response) -> NovitaGPUError:
        """The typed error for an error response (the error envelope, or any other body)."""
        envelope = _envelope(response)
        code = str(envelope.get("code") or f"HTTP_{response.status_code}")
        message = str(envelope.get("message") or response.reason_phrase or "request failed")
        kwargs: dict[str, Any] = {
            "code": code,
            "status_code": response.status_code,
            "details": envelope.get("details"),
            "request_id": envelope.get("requestId") or response.headers.get("X-Request-ID"),
        }
        cls = error_class(code, response.status_code)
        if issubclass(cls, _RetryAfterError):
            kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
        return cls(message, **kwargs)

    def network_error(self, exc: httpx.TransportError) -> NetworkError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        return NetworkError(
            f"request to {self.base_url} {kind}: {exc or type(exc).__name__}",
            code="NETWORK_ERROR",
        )

    # Retries

    def retry_delay(
        self, call: calls.Call[Any], attempt: int, response: httpx.Response | None
    ) -> float | None:
        """Seconds to wait before resending ``call`` after ``attempt`` failed, or None.

        ``response`` is None for a network error (always worth a retry for a safe call).
        """
        if not call.retry:
            return None
        if response is None:
            return self.retries.delay_for(attempt, None)
        if response.status_code not in self.retries.statuses:
            return None
        return self.retries.delay_for(
            attempt, parse_retry_after(response.headers.get("Retry-After"))
        )

    # Long-poll

    def wait_verdict(
        self, reference: str, target: str, step: calls.WaitStep, remaining: float
    ) -> Instance | None:
        """The instance once ``step`` reached ``target``; None to ask again.

        Raises :class:`InstanceFailedError` when the instance gave up and
        :class:`WaitTimeout` when no time is left.
        """
        instance = step.instance
        if step.outcome == "reached":
            return instance
        if step.outcome == "failed":
            why = f": {instance.last_error}" if instance.last_error else ""
            raise InstanceFailedError(
                f"instance {reference} is {instance.status}, not {target}{why}",
                code="INSTANCE_FAILED",
                instance=instance,
            )
        if remaining <= 0:
            raise WaitTimeout(
                f"instance {reference} is still {instance.status}, not {target}",
                code="WAIT_TIMEOUT",
                instance=instance,
            )
        return None

    @staticmethod
    def poll_pause(asked: float, took: float, remaining: float) -> float:
        """How long to pause before the next long-poll (0 when the server held the request)."""
        if took >= asked * 0.5:
            return 0.0
        return max(0.0, min(MIN_POLL_INTERVAL, remaining))


def _envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error
    if isinstance(error, str):  # an older or foreign shape: {"error": "message"}
        return {"message": error}
    return {}
