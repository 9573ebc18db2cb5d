"""``novita-gpu run``'s argument parsing and the cost shown while a job runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from novita_gpu.cli.progress import cost_so_far, money
from novita_gpu.cli.run import parse_duration, parse_env, parse_transfer, remote_command
from novita_gpu.client import Instance


@pytest.mark.parametrize(
    ("text", "minutes"), [("90m", 90), ("1h30m", 90), ("2h", 120), ("45", 45), ("600s", 10)]
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "m", "90x", "1.5h", "-3m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_transfers_split_on_the_side_of_the_remote_path() -> None:
    assert parse_transfer("./a:b:/workspace/a", remote_first=False) == ("./a:b", "/workspace/a")
    assert parse_transfer("/workspace/out:./c:d", remote_first=True) == ("/workspace/out", "./c:d")
    assert parse_transfer("out", remote_first=True) == ("out", "out")
    with pytest.raises(ValueError, match="SRC:DEST"):
        parse_transfer("out:", remote_first=True)


def test_env_takes_values_or_names_from_here() -> None:
    assert parse_env(["A=1=2", "TOKEN"], {"TOKEN": "s3"}) == {"A": "1=2", "TOKEN": "s3"}
    with pytest.raises(ValueError, match="not set here"):
        parse_env(["MISSING"], {})
    with pytest.raises(ValueError, match="variable name"):
        parse_env(["A-B=1"], {})


def test_one_word_is_a_command_line_and_several_are_quoted() -> None:
    assert remote_command(["python train.py && echo ok"]) == "python train.py && echo ok"
    assert remote_command(["sh", "-c", "echo a; echo b"]) == "sh -c 'echo a; echo b'"


def test_cost_moves_on_while_billed_and_stays_put_after() -> None:
    ready = datetime(2026, 1, 1, tzinfo=UTC)
    instance = Instance(
        id="i", name="n", status="ready", price_per_hour=3.6, ready_at=ready, estimated_cost_usd=0
    )
    assert cost_so_far(instance, ready + timedelta(seconds=10)) == pytest.approx(0.01)
    gone = instance.model_copy(update={"status": "deleted", "estimated_cost_usd": 0.02})
    assert cost_so_far(gone, ready + timedelta(hours=5)) == 0.02
    assert cost_so_far(None) == 0.0
    assert (money(0.00004), money(1.5)) == ("$0.000040", "$1.5000")
