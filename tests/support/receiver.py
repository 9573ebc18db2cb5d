"""A webhook receiver on a loopback port, in the test's event loop, that does what it is told.

It records every request (method, path, lower-cased headers, exact body bytes) and answers
from a script: a status with headers and body, ``HANG`` (never answer) or ``CLOSE`` (drop the
connection without an answer). With the script empty it answers 200. A closed ``gate`` holds
every answer back until it opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Reply = tuple[int, dict[str, str], bytes] | Literal["hang", "close"]
HANG: Reply = "hang"
CLOSE: Reply = "close"
OK: Reply = (200, {}, b"ok")
# Generous on purpose: it only bounds a failing test, and CI runs replica tests alongside.
WAIT_SECONDS = 20.0


def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Reply:
    return (code, headers or {}, body)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class Receiver:
    requests: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    """The requests answered with a 2xx, in order."""
    port: int = 0
    gate: asyncio.Event | None = None
    """When set, every answer waits until the gate opens (to hold requests in flight)."""
    _script: deque[Reply] = field(default_factory=deque)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        self._script.extend(replies)

    def clear_script(self) -> None:
        """Forget the replies not used yet: answer 200 from now on."""
        self._script.clear()

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_until(self, check: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        """Wait until ``check()`` holds, re-checked whenever a request arrives."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(check)

    async def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Received]:
        """The requests once at least ``count`` arrived (real time; fails after ``timeout``)."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {
            name.strip().lower(): value.strip()
            for name, value in (line.split(":", 1) for line in lines if ":" in line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        received = Received(method, path, headers, body)
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        reply = self._script.popleft() if self._script else OK
        if isinstance(reply, tuple) and 200 <= reply[0] < 300:
            async with self._arrived:
                self.accepted.append(received)
                self._arrived.notify_all()
        if self.gate is not None:
            await self.gate.wait()
        if reply == HANG:
            await asyncio.Event().wait()
        if isinstance(reply, str):  # CLOSE
            return False
        await _answer(writer, *reply)
        return True


async def _answer(
    writer: asyncio.StreamWriter, code: int, headers: dict[str, str], body: bytes
) -> None:
    lines = [f"HTTP/1.1 {code} X", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
