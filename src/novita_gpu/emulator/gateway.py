"""The gateway in front of the upstream API routes: request counting, faults, then auth.

Order matters and follows a real edge: every request is counted (benchmarks compare call counts,
including failed calls), network faults strike before anything else, and only then is the Bearer
key checked and the route run.

A broken connection is made the same way for every server: the response starts with a
``Content-Length`` larger than the bytes that follow, then :class:`ConnectionDropped` is raised.
uvicorn closes the socket (the client sees ``httpx.RemoteProtocolError``); the in-process
:func:`emulator_transport` turns the exception into that same error.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from novita_gpu.emulator.errors import EmulatorError, error_response, rate_limited, unauthorized
from novita_gpu.emulator.faults import FaultKind, FaultRule, upstream_path
from novita_gpu.emulator.world import World

_MISSING_BYTES = 1024


class ConnectionDropped(Exception):
    """The emulator broke a connection on purpose (``drop``/``lost_response``/``timeout``)."""


class Gateway:
    """ASGI middleware wrapping the upstream API router."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], upstream_path(scope["path"])
        self.world.count_request(method, path)
        decision = self.world.faults.draw(method, path)
        if decision.latency_ms:
            await asyncio.sleep(decision.latency_ms / 1000)
        if decision.rule is None:
            await self._serve(scope, receive, send)
        else:
            await self._misbehave(decision.rule, scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the Bearer key, then run the route."""
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, key = header.partition(" ")
        keys = self.world.config.api_keys
        if (
            scheme.lower() != "bearer"
            or not key.strip()
            or (keys is not None and key.strip() not in keys)
        ):
            await error_response(unauthorized())(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _misbehave(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        match rule.kind:
            case FaultKind.ERROR:
                error = EmulatorError(rule.status, rule.reason, rule.message)
                await error_response(error)(scope, receive, send)
            case FaultKind.RATE_LIMIT:
                await error_response(rate_limited(rule.retry_after))(scope, receive, send)
            case FaultKind.TIMEOUT:
                await _hang(rule.hang_seconds, scope, receive, send)
            case FaultKind.DROP:
                await _break_connection(send, 200, [(b"content-type", b"application/json")], b'{"')
            case FaultKind.LOST_RESPONSE:
                await self._lose_response(scope, receive, send)
            case FaultKind.SLOW_RESPONSE:
                await self._hold_response(rule.hang_seconds, scope, receive, send)
            case FaultKind.MALFORMED:
                page = f"<html><body>{rule.message}</body></html>"
                await HTMLResponse(page)(scope, receive, send)
            case FaultKind.LATENCY:  # pragma: no cover - latency never ends up as the rule
                await self._serve(scope, receive, send)

    async def _hold_response(
        self, seconds: float, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the operation for real, then hold its answer (see ``slow_response``)."""
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self._serve(scope, receive, capture)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_until_disconnect(receive), seconds)
            return  # the caller went away: nobody will read the answer
        for message in captured:
            await send(message)

    async def _lose_response(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the operation for real, then break the connection halfway through its answer."""
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self._serve(scope, receive, capture)
        start = next(m for m in captured if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        await _break_connection(
            send, start["status"], start.get("headers", []), body[: len(body) // 2]
        )


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _hang(seconds: float, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer nothing for ``seconds`` of real time or until the client goes away; a client
    still waiting after that gets a 504, as from an edge proxy giving up."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(until_disconnect(), seconds)
        return
    error = EmulatorError(504, "UNKNOWN", "gateway timeout")
    await error_response(error)(scope, receive, send)


async def _break_connection(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], partial_body: bytes
) -> None:
    """Start a response that promises more bytes than it sends, then abort."""
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    length = str(len(partial_body) + _MISSING_BYTES).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*kept, (b"content-length", length)],
        }
    )
    await send({"type": "http.response.body", "body": partial_body, "more_body": True})
    raise ConnectionDropped("connection dropped by an injected fault")
