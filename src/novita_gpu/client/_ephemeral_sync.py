"""The sync face of :class:`~novita_gpu.client._ephemeral.AsyncEphemeralInstance`: the same
flow driven from a private event loop thread (:class:`~novita_gpu.client._portal.Portal`).

While the block runs, SIGTERM raises ``SystemExit(143)`` in the main thread if the program has
no SIGTERM handler of its own, so the block unwinds and the instance is deleted.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO, TypeVar, Unpack

from novita_gpu.client._ephemeral import (
    TERMINATED_STATUS,
    AsyncEphemeralInstance,
    EphemeralOptions,
)
from novita_gpu.client._models import Instance
from novita_gpu.client._portal import Portal
from novita_gpu.client._ssh import SSHTarget

if TYPE_CHECKING:
    from novita_gpu.client._async_client import AsyncClient

T = TypeVar("T")


class EphemeralInstance:
    """``with client.ephemeral_instance(...)``: the async version driven from a private event
    loop thread, with the same methods without ``await``. See the module docstring."""

    def __init__(
        self,
        make_client: Callable[[], AsyncClient],
        product: str,
        template: str | int,
        **options: Unpack[EphemeralOptions],
    ) -> None:
        self._make_client = make_client
        self._args = (product, template)
        self._options = options
        self._portal: Portal | None = None
        self._client: AsyncClient | None = None
        self._async: AsyncEphemeralInstance | None = None
        self._previous_sigterm: Any = None

    @property
    def id(self) -> str:
        return self._inner().id

    @property
    def name(self) -> str:
        return self._inner().name

    @property
    def instance(self) -> Instance:
        return self._inner().instance

    @property
    def ssh(self) -> SSHTarget:
        return self._inner().ssh

    @property
    def max_runtime_minutes(self) -> float:
        return self._inner().max_runtime_minutes

    @property
    def auto_delete_minutes(self) -> float:
        return self._inner().auto_delete_minutes

    def run(
        self,
        command: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> int:
        """See :meth:`AsyncEphemeralInstance.run`."""
        inner = self._inner()
        return self._call(
            lambda: inner.run(command, env=env, timeout=timeout, stdout=stdout, stderr=stderr)
        )

    def put(self, local: str | Path, remote: str) -> None:
        inner = self._inner()
        self._call(lambda: inner.put(local, remote))

    def get(self, remote: str, local: str | Path) -> None:
        inner = self._inner()
        self._call(lambda: inner.get(remote, local))

    def refresh(self) -> Instance:
        return self._call(self._inner().refresh)

    def __enter__(self) -> Self:
        self._trap_sigterm()
        self._portal = Portal()
        self._client = self._make_client()
        self._async = AsyncEphemeralInstance(self._client, *self._args, **self._options)
        try:
            self._call(self._async.__aenter__)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        inner = self._inner()
        try:
            self._call(lambda: inner.__aexit__(exc_type, exc, traceback), shielded=True)
        finally:
            self._close()

    def _call(self, work: Callable[[], Awaitable[T]], *, shielded: bool = False) -> T:
        assert self._portal is not None
        return self._portal.call(work, shielded=shielded)

    def _inner(self) -> AsyncEphemeralInstance:
        if self._async is None:
            raise RuntimeError("use the ephemeral instance in a with block")
        return self._async

    def _close(self) -> None:
        if self._portal is not None and self._client is not None:
            client = self._client
            with contextlib.suppress(Exception):
                self._portal.call(client.aclose, shielded=True)
        if self._portal is not None:
            self._portal.close()
        self._release_sigterm()

    def _trap_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)

    def _release_sigterm(self) -> None:
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(TERMINATED_STATUS)
