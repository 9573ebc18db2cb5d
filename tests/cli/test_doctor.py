"""``novita-gpu doctor`` against an emulator on a real port: a good key passes every check
(in the default and the awkward shape sets), a wrong key fails with the reason, no key is a
configuration error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from novita_gpu.cli.main import app
from novita_gpu.emulator import EmulatorConfig, EmulatorServer
from novita_gpu.emulator.shapes import Shapes
from novita_gpu.upstream import CreateInstanceRequest

GOOD_KEY = "sk_doctor_good"


async def doctor(server: EmulatorServer | None, key: str | None, tmp_path: Path) -> Result:
    env = {
        "NOVITA_API_KEY": key,
        "NOVITA_API_BASE_URL": server.api_url if server else None,
        "DATABASE_URL": f"sqlite:///{tmp_path}/doctor.db",
        "COLUMNS": "200",
    }

    def invoke() -> Result:
        return CliRunner().invoke(app, ["doctor", "--page-size", "3"], env=env)

    return await asyncio.to_thread(invoke)


def seed(server: EmulatorServer, count: int) -> None:
    for n in range(count):
        body = CreateInstanceRequest(name=f"doc-{n}", product_id="4090.16c62g", image_url="i")
        server.world.create_instance(body.to_body())


@pytest.mark.parametrize("shapes", ["default", "hostile"])
async def test_a_good_key_passes(tmp_path: Path, shapes: str) -> None:
    config = EmulatorConfig(api_keys=[GOOD_KEY], shapes=Shapes.named(shapes))
    async with EmulatorServer(config) as server:
        seed(server, 8)
        result = await doctor(server, GOOD_KEY, tmp_path)
    assert result.exit_code == 0, result.output
    assert "8 of 8 instances" in result.stdout
    assert "ready for live mode" in result.stdout
    assert "fail" not in result.stdout


async def test_a_wrong_key_fails_with_the_reason(tmp_path: Path) -> None:
    async with EmulatorServer(EmulatorConfig(api_keys=[GOOD_KEY])) as server:
        result = await doctor(server, "sk_wrong", tmp_path)
    assert result.exit_code == 1
    assert "Novita rejected the API key" in result.stdout
    assert "NOVITA_API_KEY" in result.stdout
    assert "sk_wrong" not in result.stdout


async def test_no_key_is_a_configuration_error(tmp_path: Path) -> None:
    result = await doctor(None, None, tmp_path)
    assert result.exit_code == 2
    assert "NOVITA_API_KEY is not set" in result.stdout
