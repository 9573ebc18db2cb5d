"""SSH to an instance: connect (retrying until a deadline), run commands with live output,
copy files and directories over SFTP.

Built on asyncssh: it is asyncio-native (so cancellation and timeouts compose with the rest of
the async client), has SFTP with recursive copies built in, needs no ``ssh`` binary, and is
actively maintained. The sync API reaches it through a private event loop.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import posixpath
import random
import re
import shlex
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from novita_gpu.client._errors import CommandTimeout, RemoteError
from novita_gpu.client._models import Instance
from novita_gpu.client._sshlib import asyncssh

logger = logging.getLogger("novita_gpu.client")

_OPTIONS_WITH_VALUE = frozenset("bcDEeFIiJLlmOopQRSWw")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CHUNK = 65536
# A remote command that ended without an exit status (connection lost), as ssh(1) reports it.
LOST_STATUS = 255


@dataclass(frozen=True)
class SSHTarget:
    """Where and how to log in; built from an instance's connection details."""

    host: str
    port: int
    user: str
    password: str | None = None
    host_key: str | None = None

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    @classmethod
    def of(cls, instance: Instance) -> SSHTarget:
        """The target of ``instance`` (fetched with ``include_secrets=True`` for the password).

        Raises :class:`RemoteError` (``SSH_NO_DETAILS``) when it publishes no ssh command.
        """
        details = instance.connection_details
        parsed = parse_ssh_command(details.ssh or "")
        if parsed is None:
            raise RemoteError(
                f"instance {instance.name} publishes no ssh command (status {instance.status})",
                code="SSH_NO_DETAILS",
            )
        host, port, user = parsed
        return cls(host, port, user, details.ssh_password, details.ssh_host_key)


def parse_ssh_command(command: str) -> tuple[str, int, str] | None:
    """Host, port and user from ``ssh [options] [user@]host``; None if there is no host."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        return None
    if tokens and posixpath.basename(tokens[0]) == "ssh":
        tokens = tokens[1:]
    options: dict[str, str] = {}
    positional: list[str] = []
    words = iter(tokens)
    for token in words:
        if len(token) >= 2 and token[0] == "-" and token[1] in _OPTIONS_WITH_VALUE:
            options[token[1]] = token[2:] or next(words, "")
        elif not token.startswith("-"):
            positional.append(token)
    if not positional or not options.get("p", "22").isdigit():
        return None
    user, _, host = positional[0].rpartition("@")
    return host, int(options.get("p", "22")), user or options.get("l", "root")


async def connect(
    target: SSHTarget,
    *,
    timeout: float,
    strict_host_key: bool = False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Remote:
    """Log in to ``target``, retrying with backoff until ``timeout`` seconds have passed (a
    new instance's SSH often answers a little after the instance is ready).

    The host key is pinned when the instance publishes one; otherwise it is accepted as is
    (Novita's SSH proxy publishes none) unless ``strict_host_key``. Raises
    :class:`RemoteError`: ``SSH_HOST_KEY`` for a key mismatch or a missing key in strict mode
    (not retried), ``SSH_UNAVAILABLE`` when the deadline passes.
    """
    known_hosts = _known_hosts(target, strict_host_key)
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            return Remote(await _open(target, known_hosts, deadline), target)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise RemoteError(
                f"SSH host key of {target} does not match the published one: {exc}",
                code="SSH_HOST_KEY",
            ) from exc
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RemoteError(
                    f"SSH to {target} failed for {timeout:.0f} s: {_describe(exc)}",
                    code="SSH_UNAVAILABLE",
                ) from exc
            logger.info("SSH to %s not ready (%s); retrying", target, _describe(exc))
            await sleep(min(remaining, _backoff(attempt)))


def _known_hosts(target: SSHTarget, strict: bool) -> Any:
    if target.host_key:
        return ([asyncssh.import_public_key(target.host_key)], [], [])
    if strict:
        raise RemoteError(
            f"{target} publishes no SSH host key to check (strict_host_key is set)",
            code="SSH_HOST_KEY",
        )
    return None


async def _open(
    target: SSHTarget, known_hosts: Any, deadline: float
) -> asyncssh.SSHClientConnection:
    # Our own settings only: no ~/.ssh/config, agent or default keys when a password is known.
    password_only = target.password is not None
    return await asyncssh.connect(
        target.host,
        target.port,
        username=target.user,
        password=target.password,
        known_hosts=known_hosts,
        config=None,
        client_keys=None if password_only else (),
        agent_path=None if password_only else (),
        connect_timeout=max(1.0, min(30.0, deadline - time.monotonic())),
    )


def _backoff(attempt: int) -> float:
    base = min(8.0, 0.5 * 2.0 ** (attempt - 1))
    return base + random.uniform(0, base * 0.2)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def with_env(command: str, env: Mapping[str, str] | None) -> str:
    """``command`` with ``env`` exported first (sshd would drop most SSH env requests).

    Raises ``ValueError`` for a name that is not a shell variable name.
    """
    if not env:
        return command
    for key in env:
        if not _ENV_NAME.fullmatch(key):
            raise ValueError(f"not an environment variable name: {key!r}")
    exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    return f"export {exports}; {command}"


class Remote:
    """An open SSH connection to one instance."""

    def __init__(self, conn: asyncssh.SSHClientConnection, target: SSHTarget) -> None:
        self._conn = conn
        self.target = target

    async def close(self) -> None:
        self._conn.close()
        await self._conn.wait_closed()

    async def run(
        self,
        command: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> int:
        """Run ``command`` in the remote login shell, writing its output to ``stdout`` and
        ``stderr`` (default: this process's) as it arrives; return its exit status (128+N
        when killed by signal N, 255 when the connection dropped).

        On timeout or cancellation the command is sent SIGTERM and its channel closed; a
        timeout raises :class:`CommandTimeout`.
        """
        async with self._conn.create_process(
            with_env(command, env), stdin=asyncssh.DEVNULL, encoding=None
        ) as process:
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.gather(
                        _relay(process.stdout, stdout or sys.stdout),
                        _relay(process.stderr, stderr or sys.stderr),
                    )
                    await process.wait()
            except TimeoutError:
                _stop(process)
                raise CommandTimeout(
                    f"{command!r} still running after {timeout} s", code="COMMAND_TIMEOUT"
                ) from None
            except BaseException:
                _stop(process)
                raise
            return _status(process.returncode)

    async def put(self, local: str | Path, remote: str) -> None:
        """Copy a local file or directory to ``remote``. A file lands at ``remote`` (or inside
        it, if that is a directory); a directory's contents are copied into ``remote``, which
        is created if needed. Raises :class:`RemoteError` (``FILE_TRANSFER_FAILED``)."""
        source = Path(local)
        children = await asyncio.to_thread(_local_children, source)
        async with self._conn.start_sftp_client() as sftp:
            try:
                await _put(sftp, str(source), children, remote)
            except (OSError, asyncssh.Error) as exc:
                raise _transfer_error("upload", str(source), remote, exc) from exc

    async def get(self, remote: str, local: str | Path) -> None:
        """Copy a remote file or directory to ``local``, the mirror image of :meth:`put`.
        Raises :class:`RemoteError` (``FILE_TRANSFER_FAILED``), e.g. if ``remote`` is absent."""
        target = Path(local)
        async with self._conn.start_sftp_client() as sftp:
            try:
                await _get(sftp, remote, target)
            except (OSError, asyncssh.Error) as exc:
                raise _transfer_error("download", remote, str(target), exc) from exc


def _local_children(source: Path) -> list[str] | None:
    """The entries of a local directory, or None for a file; raises if it does not exist."""
    if not source.exists():
        raise RemoteError(f"nothing to upload at {source}", code="FILE_TRANSFER_FAILED")
    return [str(child) for child in source.iterdir()] if source.is_dir() else None


async def _put(
    sftp: asyncssh.SFTPClient, source: str, children: list[str] | None, remote: str
) -> None:
    if children is not None:
        await sftp.makedirs(remote, exist_ok=True)
        if children:
            await sftp.put(children, remote, recurse=True, preserve=True)
        return
    parent = posixpath.dirname(remote.rstrip("/"))
    if parent:
        await sftp.makedirs(parent, exist_ok=True)
    await sftp.put(source, remote, preserve=True)


async def _get(sftp: asyncssh.SFTPClient, remote: str, target: Path) -> None:
    if await sftp.isdir(remote):
        await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        names = [name for name in await sftp.listdir(remote) if name not in (".", "..")]
        if names:
            sources = [posixpath.join(remote, name) for name in names]
            await sftp.get(sources, str(target), recurse=True, preserve=True)
        return
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    await sftp.get(remote, str(target), preserve=True)


def _transfer_error(verb: str, source: str, dest: str, exc: BaseException) -> RemoteError:
    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return RemoteError(f"{verb} {source}: no such file", code="FILE_TRANSFER_FAILED")
    return RemoteError(
        f"{verb} {source} -> {dest} failed: {_describe(exc)}", code="FILE_TRANSFER_FAILED"
    )


async def _relay(source: asyncssh.SSHReader[bytes], sink: TextIO) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := await source.read(_CHUNK):
        sink.write(decoder.decode(chunk))
        sink.flush()
    if tail := decoder.decode(b"", final=True):
        sink.write(tail)
        sink.flush()


def _stop(process: asyncssh.SSHClientProcess[bytes]) -> None:
    """Ask sshd to signal the command, then close the channel (best effort)."""
    with contextlib.suppress(OSError, asyncssh.Error):
        process.send_signal("TERM")
    process.close()


def _status(returncode: int | None) -> int:
    if returncode is None:
        return LOST_STATUS
    return returncode if returncode >= 0 else 128 - returncode
