"""``wait_for_ready`` / ``wait_for_status``: long-polls in a loop until the deadline, reading
``X-Wait-Result``, and ends in the instance, ``WaitTimeout`` or ``InstanceFailedError``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from novita_gpu.client import Client, InstanceFailedError, WaitError, WaitTimeout
from tests.client.conftest import Recorder, instance_json


def waited(status: str, result: str | None, **extra: Any) -> httpx.Response:
    headers = {"X-Wait-Result": result} if result else {}
    return httpx.Response(200, json=instance_json(status=status, **extra), headers=headers)


def test_returns_the_instance_once_ready(client: Client, recorder: Recorder) -> None:
    recorder.reply(waited("ready", "reached"))
    instance = client.wait_for_ready("inst_1", timeout=30, poll=10)
    assert instance.is_ready
    assert dict(recorder.last.url.params) == {"waitFor": "ready", "timeout": "10"}


def test_read_timeout_covers_the_server_hold(client: Client, recorder: Recorder) -> None:
    recorder.reply(waited("ready", "reached"))
    client.wait_for_ready("inst_1", timeout=300, poll=120)
    timeout = recorder.last.extensions["timeout"]
    assert timeout["read"] == client.timeout + 120


def test_polls_again_until_reached(client: Client, recorder: Recorder) -> None:
    recorder.reply(
        waited("creating", "timeout"), waited("running", "timeout"), waited("ready", "reached")
    )
    assert client.wait_for_ready("inst_1", timeout=60, poll=5).status == "ready"
    assert len(recorder.requests) == 3


def test_the_last_request_asks_only_for_the_time_left(client: Client, recorder: Recorder) -> None:
    recorder.reply(waited("ready", "reached"))
    client.wait_for_ready("inst_1", timeout=2, poll=60)
    assert 0 < float(recorder.last.url.params["timeout"]) <= 2


def test_failed_instance_raises_with_the_reason(client: Client, recorder: Recorder) -> None:
    recorder.reply(waited("failed", "failed", lastError="image pull failed"))
    with pytest.raises(InstanceFailedError) as caught:
        client.wait_for_ready("inst_1", timeout=30)
    assert caught.value.instance.status == "failed"
    assert caught.value.code == "INSTANCE_FAILED"
    assert "image pull failed" in caught.value.message


def test_deadline_raises_wait_timeout_with_the_last_instance(
    client: Client, recorder: Recorder
) -> None:
    recorder.reply(waited("creating", "timeout"))
    with pytest.raises(WaitTimeout) as caught:
        client.wait_for_ready("inst_1", timeout=0)
    assert caught.value.instance.status == "creating"
    assert isinstance(caught.value, WaitError)
    assert len(recorder.requests) == 1


def test_an_early_timeout_answer_pauses_before_asking_again(
    client: Client, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.reply(waited("creating", "timeout"), waited("ready", "reached"))
    client.wait_for_ready("inst_1", timeout=60, poll=30)
    assert sleeps == [1.0]


class TestWithoutLongPoll:
    """A server that ignores ``waitFor`` answers at once without the header."""

    def test_status_decides(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(waited("creating", None), waited("ready", None))
        assert client.wait_for_ready("inst_1", timeout=60).is_ready

    @pytest.mark.parametrize("status", ["failed", "terminated", "deleted"])
    def test_given_up_statuses_fail(self, client: Client, recorder: Recorder, status: str) -> None:
        recorder.reply(waited(status, None))
        with pytest.raises(InstanceFailedError):
            client.wait_for_ready("inst_1", timeout=60)

    def test_running_is_reached_by_ready(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(waited("ready", None))
        assert client.wait_for_status("inst_1", "running", timeout=5).status == "ready"

    def test_waiting_for_stopped(self, client: Client, recorder: Recorder) -> None:
        recorder.reply(waited("stopping", None), waited("stopped", None))
        assert client.wait_for_status("inst_1", "stopped", timeout=60).status == "stopped"
        assert recorder.last.url.params["waitFor"] == "stopped"


def test_on_poll_sees_each_intermediate_instance(client: Client, recorder: Recorder) -> None:
    recorder.reply(
        waited("creating", "timeout"), waited("running", "timeout"), waited("ready", "reached")
    )
    seen: list[str] = []
    client.wait_for_ready("inst_1", timeout=60, poll=1, on_poll=lambda i: seen.append(i.status))
    assert seen == ["creating", "running"]
