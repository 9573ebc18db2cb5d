"""An in-process httpx transport that makes the emulator's faults look like a network's.

``httpx.ASGITransport`` ignores timeouts and re-raises app exceptions. This wrapper enforces the
request's *read* timeout (real time) so a ``timeout`` fault or a long ``latency`` ends in
``httpx.ReadTimeout``, and turns a deliberately broken response (``drop``, ``lost_response``)
into ``httpx.RemoteProtocolError``, which is what a client sees over a real socket.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import ASGIApp

from novita_gpu.emulator.gateway import ConnectionDropped


class EmulatorTransport(httpx.AsyncBaseTransport):
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            async with asyncio.timeout(timeout):
                return await self._inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout(
                "the emulator did not answer in time", request=request
            ) from None
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


def emulator_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """A transport for ``httpx.AsyncClient(transport=..., base_url=...)`` that serves requests
    from the emulator ``app`` in-process (any host name works)."""
    return EmulatorTransport(app)
