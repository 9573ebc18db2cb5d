"""Pure helpers of the SSH layer: reading ssh commands, exporting env, runtime minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from novita_gpu.client import Instance, RemoteError, SSHTarget
from novita_gpu.client._ephemeral import minutes_of
from novita_gpu.client._ssh import parse_ssh_command, with_env


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "ssh root@proxy.as-sgp-2.gpu-instance.novita.ai -p 39655",
            ("proxy.as-sgp-2.gpu-instance.novita.ai", 39655, "root"),
        ),
        ("ssh -p 2222 ubuntu@10.0.0.1", ("10.0.0.1", 2222, "ubuntu")),
        ("ssh -p2200 -o StrictHostKeyChecking=no host", ("host", 2200, "root")),
        ("/usr/bin/ssh -l admin -i key.pem box", ("box", 22, "admin")),
    ],
)
def test_reads_host_port_and_user(command: str, expected: tuple[str, int, str]) -> None:
    assert parse_ssh_command(command) == expected


@pytest.mark.parametrize("command", ["", "ssh", "ssh -p 22", "ssh -p x host", "ssh 'unclosed"])
def test_rejects_commands_without_a_usable_host(command: str) -> None:
    assert parse_ssh_command(command) is None


def test_an_instance_without_ssh_details_is_a_remote_error() -> None:
    instance = Instance(id="inst_1", name="a", status="running")
    with pytest.raises(RemoteError) as caught:
        SSHTarget.of(instance)
    assert caught.value.code == "SSH_NO_DETAILS"


def test_env_is_exported_quoted_before_the_command() -> None:
    assert with_env("env", {"A": "x y", "B": "$(no)"}) == "export A='x y' B='$(no)'; env"
    assert with_env("env", None) == "env"
    with pytest.raises(ValueError, match="variable name"):
        with_env("env", {"A-B": "1"})


def test_safety_net_minutes_keep_fractions() -> None:
    assert minutes_of(90) == 90
    assert minutes_of(timedelta(seconds=6)) == 0.1
    with pytest.raises(ValueError, match="max_runtime must be positive"):
        minutes_of(timedelta(0))
