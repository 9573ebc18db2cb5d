"""SSH and SFTP into emulated instances: a development aid, off unless enabled.

One asyncssh server per emulator, on a loopback port. A client logs in as ``root`` with the
password of a ``running`` instance (it rotates on every start, as on Novita), which also tells
the server which instance the session belongs to. Each instance gets a scratch directory, its
*sandbox*, under a temporary root removed when the server stops:

- commands run with ``/bin/sh -c`` **on this machine**, in the sandbox, with ``HOME`` pointing at
  it (nothing isolates them: only enable this for your own code);
- SFTP is confined to the sandbox: ``/x`` means ``<sandbox>/x`` and relative paths land in the
  sandbox, where commands start. Jobs that use relative remote paths behave alike here and on
  Novita.

A command is killed (its whole process group) when the client sends a signal, closes the
channel or disconnects, and when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

from novita_gpu.client._sshlib import asyncssh
from novita_gpu.emulator.models import Instance, Status
from novita_gpu.emulator.world import World

_USER = "root"
_INSTANCE_KEY = "novita_instance_id"
_CHUNK = 65536


class EmulatorSSH:
    """The SSH server of one :class:`World`; ``async with`` or :meth:`start`/:meth:`stop`."""

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0) -> None:
        self.world = world
        self.host = host
        self.port = port
        self._key = asyncssh.generate_private_key("ssh-ed25519")
        self._root: Path | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._children: set[asyncio.subprocess.Process] = set()

    @property
    def host_key(self) -> str:
        """The public host key as one ``ssh-ed25519 AAAA...`` line."""
        algorithm, data = self._key.export_public_key("openssh").decode().split()[:2]
        return f"{algorithm} {data}"

    async def start(self) -> None:
        """Bind and serve; :attr:`port` is the bound port afterwards."""
        # asyncssh logs every channel at INFO; the service's log is not the place for that.
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
        self._root = Path(tempfile.mkdtemp(prefix="novita-emulator-ssh-"))
        self._acceptor = await asyncssh.create_server(
            lambda: _Gate(self),
            self.host,
            self.port,
            server_host_keys=[self._key],
            process_factory=self._run,
            sftp_factory=self._sftp,
            encoding=None,
            allow_scp=False,
        )
        self.port = self._acceptor.get_port()

    async def stop(self) -> None:
        """Stop listening, kill running commands and remove every sandbox (idempotent)."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for child in list(self._children):
            _kill_group(child, signal.SIGKILL)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def login(self, username: str, password: str) -> Instance | None:
        """The running instance whose SSH password this is, if any."""
        if username != _USER or not password:
            return None
        self.world.settle()
        for instance in self.world.instances(status=Status.RUNNING.value):
            if hmac.compare_digest(instance.credentials.ssh_password, password):
                return instance
        return None

    def sandbox(self, instance_id: str) -> Path:
        """The instance's scratch directory (created on first use)."""
        assert self._root is not None, "the SSH server is not started"
        path = self._root / instance_id
        path.mkdir(exist_ok=True)
        return path

    # sessions

    def _sftp(self, channel: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        root = self.sandbox(channel.get_extra_info(_INSTANCE_KEY))
        return asyncssh.SFTPServer(channel, chroot=os.fsencode(root))

    async def _run(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        if not process.command:
            process.stderr.write(b"the emulator runs commands only: no interactive shell\n")
            process.exit(1)
            return
        sandbox = self.sandbox(process.get_extra_info(_INSTANCE_KEY))
        child = await asyncio.create_subprocess_shell(
            process.command,
            cwd=sandbox,
            env={**os.environ, "HOME": str(sandbox), "PWD": str(sandbox)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._children.add(child)
        try:
            process.exit(await self._follow(process, child))
        finally:
            self._children.discard(child)
            _kill_group(child, signal.SIGKILL)

    async def _follow(
        self, process: asyncssh.SSHServerProcess[bytes], child: asyncio.subprocess.Process
    ) -> int:
        """Stream ``child``'s output to the client until it exits; its shell-style status."""
        assert child.stdout is not None
        assert child.stderr is not None
        watcher = asyncio.create_task(_watch_client(process, child))
        try:
            await asyncio.gather(
                _pump(child.stdout, process.stdout), _pump(child.stderr, process.stderr)
            )
            code = await child.wait()
        finally:
            watcher.cancel()
        return code if code >= 0 else 128 - code


class _Gate(asyncssh.SSHServer):
    """Password login as ``root``; remembers which instance the connection belongs to."""

    def __init__(self, server: EmulatorSSH) -> None:
        self._server = server
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        instance = self._server.login(username, password)
        if instance is None or self._conn is None:
            return False
        self._conn.set_extra_info(**{_INSTANCE_KEY: instance.id})
        return True


async def _pump(source: asyncio.StreamReader, sink: asyncssh.SSHWriter[bytes]) -> None:
    while chunk := await source.read(_CHUNK):
        with contextlib.suppress(OSError, asyncssh.Error):
            sink.write(chunk)


async def _watch_client(
    process: asyncssh.SSHServerProcess[bytes], child: asyncio.subprocess.Process
) -> None:
    """Kill ``child``'s group on a signal from the client or when the channel goes away."""
    sig = signal.SIGKILL
    try:
        while await process.stdin.read(_CHUNK):
            pass  # commands get no stdin; drain until EOF
        await process.channel.wait_closed()
    except asyncssh.SignalReceived as received:
        sig = getattr(signal, f"SIG{received.signal}", signal.SIGTERM)
    except asyncssh.BreakReceived:
        sig = signal.SIGINT
    except (OSError, asyncssh.Error):
        pass
    _kill_group(child, sig)


def _kill_group(child: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)
