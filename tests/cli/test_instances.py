"""``novita-gpu instances ...`` against a live server: tables, ``--json``, ``--wait``, and
exit codes (3 not found, 4 conflict, 2 usage, 6 wait) with one clear error line."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Cli

pytestmark = pytest.mark.slow
PRODUCT = ("--product-name", "RTX 4090 24GB", "--template-id", "pytorch-jupyter")


async def create_ready(cli: Cli, name: str) -> dict[str, object]:
    ready: dict[str, object] = await cli.json(
        "instances", "create", "--name", name, *PRODUCT, "--wait"
    )
    return ready


class TestCreateAndRead:
    async def test_create_wait_json_is_the_ready_instance(self, cli: Cli) -> None:
        ready = await create_ready(cli, "job-1")
        assert ready["status"] == "ready"
        assert ready["name"] == "job-1"
        details = ready["connectionDetails"]
        assert isinstance(details, dict)
        assert details["ssh"].startswith("ssh ")
        assert "8888" in details["endpoints"]

    async def test_create_wait_prints_how_to_connect(self, cli: Cli) -> None:
        result = await cli("instances", "create", "-n", "job-1", *PRODUCT, "--wait")
        assert result.exit_code == 0, result.output
        assert "created job-1 (inst_" in result.stdout
        assert "job-1 is ready" in result.stdout
        assert "jupyter" in result.stdout
        assert "port 8888" in result.stdout

    async def test_create_without_wait_returns_at_once(self, cli: Cli) -> None:
        created = await cli.json(
            "instances", "create", "-n", "job-1", *PRODUCT, "--env", "A=1", "--idle-minutes", "30"
        )
        assert created["status"] == "creating"
        assert created["instance"]["autoStop"] == {"enabled": True, "idleMinutes": 30}

    async def test_list_and_get(self, cli: Cli) -> None:
        ready = await create_ready(cli, "job-1")
        await cli.json("instances", "create", "-n", "job-2", *PRODUCT)
        listed = await cli.json("instances", "list")
        assert listed["total"] == 2
        assert [item["name"] for item in listed["instances"]] == ["job-2", "job-1"]
        only = await cli.json("instances", "list", "--status", "ready,running", "--all")
        assert "job-1" in [item["name"] for item in only["instances"]]
        assert {item["status"] for item in only["instances"]} <= {"ready", "running"}
        by_name = await cli.json("instances", "get", "--name", "job-1")
        assert by_name["id"] == ready["id"]
        table = await cli("instances", "list")
        assert "job-1" in table.stdout
        assert "2 instances" in table.stdout

    async def test_get_shows_details_and_secrets(self, cli: Cli) -> None:
        ready = await create_ready(cli, "job-1")
        shown = await cli("instances", "get", str(ready["id"]))
        assert shown.exit_code == 0, shown.output
        for text in ("job-1", "ready", "connection", "health check: healthy"):
            assert text in shown.stdout
        secret = await cli.json("instances", "get", "--name", "job-1", "--secrets")
        assert secret["connectionDetails"]["sshPassword"]


class TestActions:
    async def test_stop_start_heartbeat_delete(self, cli: Cli) -> None:
        ready = await create_ready(cli, "job-1")
        stopped = await cli.json("instances", "stop", "--name", "job-1", "--wait")
        assert stopped["status"] == "stopped"
        again = await cli("instances", "stop", str(ready["id"]))
        assert again.exit_code == 0
        assert "stopped" in again.stdout
        started = await cli("instances", "start", "-n", "job-1", "--wait")
        assert started.exit_code == 0, started.output
        assert "ready" in started.stdout
        assert "connection" in started.stdout
        touched = await cli.json("instances", "heartbeat", "-n", "job-1")
        assert touched["lastUsedAt"]
        deleted = await cli.json("instances", "delete", "-n", "job-1", "--yes", "--wait")
        assert deleted["status"] == "deleted"

    async def test_events_history(self, cli: Cli) -> None:
        ready = await create_ready(cli, "job-1")
        history = await cli.json("instances", "events", str(ready["id"]))
        assert [event["type"] for event in history] == [
            "instance.created",
            "instance.running",
            "instance.health_checking",
            "instance.ready",
        ]
        lines = await cli("events", "--name", "job-1")
        assert lines.stdout.count("\n") == 4
        assert "instance.ready" in lines.stdout


class TestExitCodes:
    async def test_not_found_is_3_with_one_line(self, cli: Cli) -> None:
        result = await cli("instances", "get", "inst_nope")
        assert result.exit_code == 3
        assert result.stderr == "error: INSTANCE_NOT_FOUND: No instance 'inst_nope'\n"
        assert result.stdout == ""
        by_name = await cli("instances", "stop", "--name", "ghost")
        assert by_name.exit_code == 3

    async def test_json_errors_are_parseable(self, cli: Cli) -> None:
        result = await cli("instances", "get", "inst_nope", "--json")
        assert result.exit_code == 3
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "INSTANCE_NOT_FOUND"
        assert error["requestId"]

    async def test_conflicts_are_4(self, cli: Cli) -> None:
        ready = await create_ready(cli, "job-1")
        taken = await cli("instances", "create", "-n", "job-1", *PRODUCT)
        assert taken.exit_code == 4
        assert taken.stderr.startswith("error: NAME_TAKEN: ")
        await cli.json("instances", "delete", str(ready["id"]), "--yes", "--wait")
        not_startable = await cli("instances", "start", str(ready["id"]))
        assert not_startable.exit_code == 4
        assert "INSTANCE_NOT_STARTABLE" in not_startable.stderr

    async def test_rejected_input_is_2(self, cli: Cli) -> None:
        result = await cli("instances", "create", "-n", "bad name", *PRODUCT)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: VALIDATION_ERROR: ")
        assert result.stderr.count("\n") == 1

    async def test_wait_timeout_is_6(self, cli: Cli) -> None:
        assert cli.live is not None
        cli.live.world.config.speed = 1  # seconds, not instant: the app is set before it boots
        created = await cli.json("instances", "create", "-n", "job-1", *PRODUCT)
        cli.live.world.set_app(created["novitaInstanceId"], healthy=False)
        result = await cli("instances", "wait", "--name", "job-1", "--timeout", "0.5")
        assert result.exit_code == 6
        assert result.stderr.startswith("error: WAIT_TIMEOUT: instance ")

    async def test_a_failed_instance_is_6(self, cli: Cli) -> None:
        assert cli.live is not None
        cli.live.world.config.speed = 1  # seconds, not instant: it fails on its way up
        created = await cli.json("instances", "create", "-n", "job-1", *PRODUCT)
        cli.live.world.fail(created["novitaInstanceId"], "image pull failed")
        result = await cli("instances", "wait", created["instanceId"], "--timeout", "20")
        assert result.exit_code == 6
        assert result.stderr.startswith("error: INSTANCE_FAILED: ")
        assert "image pull failed" in result.stderr
