"""Ephemeral instances: create, wait until ready, use over SSH, and always delete.

    async with client.ephemeral_instance("RTX 4090 24GB", "pytorch-jupyter") as gpu:
        await gpu.put("training", "training")
        status = await gpu.run("python training/train.py", env={"EPOCHS": "3"})
        await gpu.get("out", "out")

The instance is created with a server-side safety net, ``maxRuntimeMinutes`` (the server stops
it after that long) and ``autoDelete`` (it deletes it a minute after it stopped), so even a
client killed outright costs at most ``max_runtime``. While the block runs the client sends a
heartbeat every minute, so the server's idle auto-stop ends it sooner if the client dies.

On the way out, however the block ends (normally, an exception, ``KeyboardInterrupt``, SIGTERM,
task cancellation), the instance is deleted and the delete is awaited until the server confirms
it. A second interrupt does not cut that short. If the delete cannot be confirmed, the block's
own exception gets a note saying so, or :class:`CleanupError` is raised if there was none.
SIGTERM is handled while the block runs only if the program has no SIGTERM handler of its own
(and only in the main thread); it ends the program with status 143 after the cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO, TypedDict, TypeVar, Unpack

from novita_gpu.client._errors import (
    CleanupError,
    ConflictError,
    InstanceFailedError,
    NotFoundError,
    NovitaGPUError,
    RemoteError,
)
from novita_gpu.client._models import Instance
from novita_gpu.client._ssh import Remote, SSHTarget, connect

if TYPE_CHECKING:
    from novita_gpu.client._async_client import AsyncClient

logger = logging.getLogger("novita_gpu.client")
T = TypeVar("T")

#: Exit status of a program ended by SIGTERM (128 + 15), as shells report it.
TERMINATED_STATUS = 143
DEFAULT_MAX_RUNTIME_MINUTES = 60
# Deleted this long after the safety net stopped it, by default.
AUTO_DELETE_AFTER_STOPPED_MINUTES = 1.0
_GONE = frozenset({"deleted", "terminated"})


class EphemeralOptions(TypedDict, total=False):
    """Options of ``ephemeral_instance`` (all optional).

    - ``gpus``: GPUs (default 1); ``name``: instance name (default ``eph-<random>``);
    - ``max_runtime``: minutes, or a ``timedelta``, for the server-side safety net (default 60);
    - ``auto_delete_after``: minutes (or a ``timedelta``) from the safety net's stop to the
      server's delete (default 1);
    - ``keep``: do not delete on exit (the safety net still ends it);
    - ``ready_timeout`` / ``ssh_timeout`` / ``delete_timeout``: seconds (900 / 300 / 300);
    - ``heartbeat_interval``: seconds between heartbeats (60; 0 sends none);
    - ``strict_host_key``: refuse to connect when no SSH host key is published;
    - ``on_phase``: called with ``creating``, ``waiting``, ``connecting``, ``ready``,
      ``deleting``, ``deleted`` or ``kept`` as the instance moves on (from the event loop's
      thread);
    - ``create``: other create fields in snake_case (``region``, ``billing_mode``, ``envs``...).
    """

    gpus: int
    name: str | None
    max_runtime: float | timedelta
    auto_delete_after: float | timedelta
    keep: bool
    ready_timeout: float
    ssh_timeout: float
    delete_timeout: float
    heartbeat_interval: float
    strict_host_key: bool
    on_phase: Callable[[str], None]
    create: Mapping[str, Any]


def minutes_of(value: float | timedelta, what: str = "max_runtime") -> float:
    """Minutes from a number of minutes or a ``timedelta`` (fractions kept, as the server
    takes them); raises ``ValueError`` unless positive."""
    minutes = value.total_seconds() / 60 if isinstance(value, timedelta) else float(value)
    if minutes <= 0:
        raise ValueError(f"{what} must be positive")
    return round(minutes, 4)


class AsyncEphemeralInstance:
    """``async with client.ephemeral_instance(...)``: see the module docstring."""

    def __init__(
        self,
        client: AsyncClient,
        product: str,
        template: str | int,
        **options: Unpack[EphemeralOptions],
    ) -> None:
        opts = options
        self.client = client
        self.name = opts.get("name") or f"eph-{secrets.token_hex(4)}"
        self.max_runtime_minutes = minutes_of(opts.get("max_runtime", DEFAULT_MAX_RUNTIME_MINUTES))
        self.auto_delete_minutes = minutes_of(
            opts.get("auto_delete_after", AUTO_DELETE_AFTER_STOPPED_MINUTES), "auto_delete_after"
        )
        self.keep = opts.get("keep", False)
        self._opts = opts
        self._create_args: dict[str, Any] = {
            **opts.get("create", {}),
            "gpu_num": opts.get("gpus", 1),
            "max_runtime_minutes": self.max_runtime_minutes,
            "auto_delete": {"after_stopped_minutes": self.auto_delete_minutes},
        }
        self._product, self._template = product, template
        self._key = f"eph-{uuid.uuid4()}"
        self._id: str | None = None
        self._outcome_unknown = False
        self._instance: Instance | None = None
        self._remote: Remote | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._sigterm_loop: asyncio.AbstractEventLoop | None = None
        self._terminated = False
        self._finished = False

    # what the block sees

    @property
    def id(self) -> str:
        """The local instance id (``inst_...``)."""
        if self._id is None:
            raise RuntimeError("the instance is not created yet")
        return self._id

    @property
    def instance(self) -> Instance:
        """The instance as last seen (refreshed by waits and heartbeats)."""
        if self._instance is None:
            raise RuntimeError("the instance is not created yet")
        return self._instance

    @property
    def ssh(self) -> SSHTarget:
        """Where SSH goes (host, port, user; the password and host key if known)."""
        return self._connected().target

    async def refresh(self) -> Instance:
        self._instance = await self.client.get_instance(self.id)
        return self._instance

    async def run(
        self,
        command: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> int:
        """Run ``command`` on the instance, streaming its output; its exit status.

        See :meth:`Remote.run`; raises :class:`CommandTimeout` after ``timeout`` seconds."""
        return await self._connected().run(
            command, env=env, timeout=timeout, stdout=stdout, stderr=stderr
        )

    async def put(self, local: str | Path, remote: str) -> None:
        """Upload a file or directory (see :meth:`Remote.put`)."""
        await self._connected().put(local, remote)

    async def get(self, remote: str, local: str | Path) -> None:
        """Download a file or directory (see :meth:`Remote.get`)."""
        await self._connected().get(remote, local)

    def _connected(self) -> Remote:
        if self._remote is None:
            raise RemoteError("not connected: use the instance inside its block", code="SSH_CLOSED")
        return self._remote

    # entering

    async def __aenter__(self) -> Self:
        self._trap_sigterm()
        try:
            await self._create()
            await self._wait_ready()
            await self._connect()
        except BaseException as exc:
            await self._unwind(exc)
            raise
        interval = self._opts.get("heartbeat_interval", 60.0)
        if interval > 0:
            self._heartbeat = asyncio.create_task(self._beat(interval))
        self._phase("ready")
        return self

    async def _create(self) -> None:
        self._phase("creating")
        self._outcome_unknown = True
        try:
            result = await self._send_create()
        except NovitaGPUError as exc:
            # A refusal (4xx) created nothing; a network error or 5xx may have.
            self._outcome_unknown = exc.status_code is None or exc.status_code >= 500
            raise
        self._outcome_unknown = False
        self._id, self._instance = result.instance_id, result.instance

    async def _send_create(self) -> Any:
        return await self.client.create_instance(
            self.name,
            self._product,
            self._template,
            idempotency_key=self._key,
            **self._create_args,
        )

    async def _wait_ready(self) -> None:
        self._phase("waiting")
        self._instance = await self.client.wait_for_ready(
            self.id,
            timeout=self._opts.get("ready_timeout", 900.0),
            poll=15.0,
            on_poll=self._seen,
        )

    async def _connect(self) -> None:
        self._phase("connecting")
        timeout = self._opts.get("ssh_timeout", 300.0)
        deadline = time.monotonic() + timeout
        target = await self._ssh_target(deadline)
        self._remote = await connect(
            target,
            timeout=max(1.0, deadline - time.monotonic()),
            strict_host_key=self._opts.get("strict_host_key", False),
        )

    async def _ssh_target(self, deadline: float) -> SSHTarget:
        """The SSH target, asking again while the server has no ssh command yet."""
        while True:
            self._instance = await self.client.get_instance(self.id, include_secrets=True)
            try:
                return SSHTarget.of(self._instance)
            except RemoteError:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(2.0)

    def _seen(self, instance: Instance) -> None:
        self._instance = instance

    async def _beat(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self._instance = (await self.client.heartbeat(self.id)).instance
            except NovitaGPUError as exc:
                logger.warning("heartbeat for %s failed: %s", self.name, exc)

    # leaving

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None:
            await self._unwind(exc)
            return
        try:
            await self._finish()
        except asyncio.CancelledError:
            if self._terminated:
                raise SystemExit(TERMINATED_STATUS) from None
            raise
        finally:
            self._release_sigterm()

    async def _unwind(self, exc: BaseException) -> None:
        """Clean up after ``exc``; a cleanup failure becomes a note on ``exc``."""
        try:
            await self._finish()
        except CleanupError as failure:
            logger.error("%s", failure)
            exc.add_note(str(failure))
        except asyncio.CancelledError:
            pass  # cancelled again during cleanup, which still ran to its end
        finally:
            self._release_sigterm()
        if self._terminated and isinstance(exc, asyncio.CancelledError):
            raise SystemExit(TERMINATED_STATUS) from None

    async def _finish(self) -> None:
        """Run :meth:`_cleanup` to its end even if cancelled meanwhile, then re-raise one
        ``CancelledError`` if there was any."""
        task = asyncio.ensure_future(self._cleanup())
        cancelled = False
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                cancelled = cancelled or not task.done()
            except BaseException:  # noqa: S110 - the cleanup's own failure: raised below
                pass
        task.result()
        if cancelled:
            raise asyncio.CancelledError

    async def _cleanup(self) -> None:
        if self._finished:
            return
        self._finished = True
        await self._close_session()
        instance_id = self._id or await self._recover()
        if instance_id is None:
            return
        if self.keep:
            self._phase("kept")
            return
        self._phase("deleting")
        await self._delete(instance_id)
        self._phase("deleted")

    async def _close_session(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._remote is not None:
            with contextlib.suppress(Exception):
                await self._remote.close()
            self._remote = None

    async def _recover(self) -> str | None:
        """The instance a create of unknown outcome made, if any: the same request with the
        same ``Idempotency-Key`` replays the first answer (or creates it, to be deleted)."""
        if not self._outcome_unknown:
            return None
        try:
            result = await self._send_create()
        except ConflictError:
            return None  # the name belongs to an instance that is not ours
        except NovitaGPUError as exc:
            raise self._cleanup_error(None, exc) from exc
        self._id, self._instance = result.instance_id, result.instance
        return self._id

    async def _delete(self, instance_id: str) -> None:
        timeout = self._opts.get("delete_timeout", 300.0)
        try:
            async with asyncio.timeout(timeout):
                await self._request_delete(instance_id)
                await self._await_deleted(instance_id, timeout)
        except (NovitaGPUError, TimeoutError) as exc:
            raise self._cleanup_error(instance_id, exc) from exc

    async def _request_delete(self, instance_id: str) -> None:
        while True:
            try:
                self._instance = (await self.client.delete_instance(instance_id)).instance
                return
            except NotFoundError:
                return
            except ConflictError:  # another operation is in flight: let it land
                await asyncio.sleep(2.0)

    async def _await_deleted(self, instance_id: str, timeout: float) -> None:
        try:
            self._instance = await self.client.wait_for_status(
                instance_id, "deleted", timeout=timeout, poll=30.0
            )
        except InstanceFailedError as exc:
            if exc.instance.status not in _GONE:
                raise
            self._instance = exc.instance

    def _cleanup_error(self, instance_id: str | None, exc: BaseException) -> CleanupError:
        what = f"instance {self.name}" + (f" ({instance_id})" if instance_id else "")
        return CleanupError(
            f"{what} was not confirmed deleted ({exc or type(exc).__name__}); the server"
            f" stops it {self.max_runtime_minutes:g} min after it started and deletes it"
            f" {self.auto_delete_minutes:g} min later",
            instance_id=instance_id,
            code="CLEANUP_FAILED",
        )

    def _phase(self, name: str) -> None:
        if callback := self._opts.get("on_phase"):
            callback(name)

    # SIGTERM: cancel the task that entered the block, then exit 143 after the cleanup

    def _trap_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            return
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGTERM, self._on_sigterm, task)
            self._sigterm_loop = loop

    def _on_sigterm(self, task: asyncio.Task[Any]) -> None:
        self._terminated = True
        task.cancel()

    def _release_sigterm(self) -> None:
        if self._sigterm_loop is not None:
            self._sigterm_loop.remove_signal_handler(signal.SIGTERM)
            self._sigterm_loop = None
