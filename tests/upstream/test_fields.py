"""Value parsers for the real API's quirks, and the ssh command parser."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from novita_gpu.upstream import SSHEndpoint, parse_ssh_command, region_code, usd
from novita_gpu.upstream.fields import (
    parse_count,
    parse_optional_count,
    parse_price_units,
    parse_unix_time,
)

JAN_15 = datetime(2026, 1, 15, tzinfo=UTC)


class TestCounts:
    @pytest.mark.parametrize(("raw", "expected"), [(8, 8), ("8", 8), (" 32 ", 32), ("8.0", 8)])
    def test_numbers_and_numeric_strings(self, raw: Any, expected: int) -> None:
        assert parse_count(raw) == expected

    @pytest.mark.parametrize(("raw", "expected"), [("\u0663", 3), ("12" * 20, int("12" * 20))])
    def test_non_ascii_digits_and_big_numbers(self, raw: Any, expected: int) -> None:
        assert parse_count(raw) == expected

    @pytest.mark.parametrize("raw", [None, "", "  "])
    def test_blank_is_zero_or_none(self, raw: Any) -> None:
        assert parse_count(raw) == 0
        assert parse_optional_count(raw) is None

    @pytest.mark.parametrize("raw", ["eight", True, "nan", "inf", [1], {"n": 1}])
    def test_unreadable_is_zero_or_none(self, raw: Any) -> None:
        assert parse_count(raw) == 0
        assert parse_optional_count(raw) is None


class TestUnixTime:
    @pytest.mark.parametrize(
        "raw",
        ["1768435200", 1768435200, "1768435200000", 1768435200000, " 1768435200 ", 1.7684352e9],
    )
    def test_seconds_or_milliseconds(self, raw: Any) -> None:
        assert parse_unix_time(raw) == JAN_15

    @pytest.mark.parametrize("raw", ["0", 0, "", None, "-1", -1])
    def test_zero_empty_and_negative_mean_never(self, raw: Any) -> None:
        assert parse_unix_time(raw) is None

    @pytest.mark.parametrize("raw", ["yesterday", "1e30", "9" * 400, True, {"t": 1}])
    def test_unreadable_is_none(self, raw: Any) -> None:
        assert parse_unix_time(raw) is None

    def test_iso_strings_are_read_as_utc(self) -> None:
        assert parse_unix_time("2026-01-15T00:00:00") == JAN_15
        assert parse_unix_time("2026-01-15T01:00:00+01:00") == JAN_15


class TestPrices:
    @pytest.mark.parametrize(
        ("raw", "units"), [(35000, 35000), ("35000", 35000), ("67000.0", 67000)]
    )
    def test_int_or_numeric_string(self, raw: Any, units: int) -> None:
        assert parse_price_units(raw) == units

    @pytest.mark.parametrize("raw", ["", None, "free", False])
    def test_blank_or_unreadable_price_is_none(self, raw: Any) -> None:
        assert parse_price_units(raw) is None

    def test_usd_is_exact(self) -> None:
        assert usd(35000) == Decimal("0.35")
        assert usd(1) == Decimal("0.00001")


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("US-CA-06 (California)", "US-CA-06"),
        ("AF-ZA-01 (South Africa)", "AF-ZA-01"),
        ("EU-DE-01", "EU-DE-01"),
        (" OC-AU-01  (Sydney) ", "OC-AU-01"),
    ],
)
def test_region_code(label: str, code: str) -> None:
    assert region_code(label) == code


class TestSSHCommand:
    HOST = "proxy.as-sgp-2.gpu-instance.novita.ai"

    @pytest.mark.parametrize(
        "command",
        [
            f"ssh -p 39655 root@{HOST}",
            f"ssh root@{HOST} -p 39655",
            f"ssh -p39655 root@{HOST}",
            f"ssh -o StrictHostKeyChecking=no -p 39655 root@{HOST}",
            f"ssh -l root -p 39655 {HOST}",
            f"/usr/bin/ssh -p 39655 root@{HOST}",
        ],
    )
    def test_port_and_target_in_any_order(self, command: str) -> None:
        assert parse_ssh_command(command) == SSHEndpoint(host=self.HOST, port=39655, user="root")

    def test_defaults_port_22_and_user_root(self) -> None:
        assert parse_ssh_command("ssh example.org") == SSHEndpoint("example.org", 22, "root")

    @pytest.mark.parametrize("command", [None, "", "ssh", "ssh -p 22", "ssh -p abc root@h"])
    def test_unparseable_is_none(self, command: str | None) -> None:
        assert parse_ssh_command(command) is None
