"""The emulator's SSH server: logins by instance password, the sandbox, SFTP confinement,
commands killed with their channel, and the upstream shapes that publish it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from novita_gpu.client._sshlib import asyncssh
from novita_gpu.emulator import EmulatorConfig, EmulatorServer
from tests.emulator.conftest import AUTH
from tests.emulator.helpers import create, get


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(EmulatorConfig(speed=0, ssh_enabled=True)) as server:
        yield server


@pytest.fixture
async def running(server: EmulatorServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"{server.api_url}/v1", headers=AUTH) as api:
        return await get(api, await create(api))


def login(
    server: EmulatorServer, password: str, username: str = "root"
) -> asyncssh.SSHClientConnection:
    assert server.config.ssh_address is not None
    assert server.config.ssh_host_key is not None
    host, port = server.config.ssh_address
    key = asyncssh.import_public_key(server.config.ssh_host_key)
    return asyncssh.connect(  # type: ignore[return-value]
        host,
        port,
        username=username,
        password=password,
        known_hosts=([key], [], []),
        client_keys=None,
        agent_path=None,
        config=None,
    )


async def test_publishes_ssh_in_the_upstream_shapes(
    server: EmulatorServer, running: dict[str, Any]
) -> None:
    assert server.ssh is not None
    ssh = running["connectComponentSSH"]
    assert ssh["sshCommand"] == running["sshCommand"] == f"ssh root@127.0.0.1 -p {server.ssh.port}"
    assert ssh["hostKey"] == server.config.ssh_host_key
    assert ssh["hostKey"].startswith("ssh-ed25519 ")
    assert ssh["password"] == running["sshPassword"] != ""


@pytest.mark.parametrize(("user", "wrong"), [("root", True), ("admin", False)])
async def test_refuses_other_passwords_and_users(
    server: EmulatorServer, running: dict[str, Any], user: str, wrong: bool
) -> None:
    password = "nope" if wrong else running["sshPassword"]
    with pytest.raises(asyncssh.PermissionDenied):
        async with login(server, password, user):
            pass


async def test_commands_and_sftp_share_a_confined_sandbox(
    server: EmulatorServer, running: dict[str, Any]
) -> None:
    assert server.ssh is not None
    sandbox = server.ssh.sandbox(running["id"])
    async with login(server, running["sshPassword"]) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.makedirs("/workspace", exist_ok=True)
            async with sftp.open("/workspace/a.txt", "w") as remote:
                await remote.write("from sftp")
            assert await sftp.realpath(".") == "/"
        result = await conn.run("pwd; cat workspace/a.txt; echo $HOME", check=False)
    assert result.stdout == f"{sandbox}\nfrom sftp{sandbox}\n"
    assert (sandbox / "workspace" / "a.txt").is_file()


async def test_closing_the_channel_kills_the_command(
    server: EmulatorServer, running: dict[str, Any]
) -> None:
    assert server.ssh is not None
    marker = server.ssh.sandbox(running["id"]) / "survived"
    async with login(server, running["sshPassword"]) as conn:
        process = await conn.create_process("sleep 1 && touch survived")
        await asyncio.sleep(0.2)
        process.close()
    await asyncio.sleep(1.5)
    assert not marker.exists()


async def test_stopping_the_server_removes_the_sandboxes() -> None:
    config = EmulatorConfig(speed=0, ssh_enabled=True)
    async with EmulatorServer(config) as server:
        assert server.ssh is not None
        sandbox = server.ssh.sandbox("any")
    assert not sandbox.exists()
    assert config.ssh_address is None
