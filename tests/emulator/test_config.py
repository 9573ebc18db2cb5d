"""EmulatorConfig presets and environment parsing."""

from __future__ import annotations

import pytest

from novita_gpu.emulator import EmulatorConfig


class TestPresets:
    def test_fast_is_ready_in_a_few_seconds(self) -> None:
        config = EmulatorConfig.preset("fast")
        steps = config.steps
        ready = steps.to_create + steps.creating + steps.pulling + config.app_boot_seconds
        assert 1 <= ready <= 5

    def test_realistic_takes_minutes(self) -> None:
        config = EmulatorConfig.preset("realistic")
        steps = config.steps
        assert steps.to_create + steps.creating + steps.pulling >= 60

    def test_instant(self) -> None:
        assert EmulatorConfig.preset("instant").scaled(100) == 0

    def test_unknown(self) -> None:
        with pytest.raises(ValueError, match="unknown emulator preset"):
            EmulatorConfig.preset("slow")  # type: ignore[arg-type]


class TestFromEnv:
    def test_defaults(self) -> None:
        assert EmulatorConfig.from_env({}) == EmulatorConfig()

    def test_all_variables(self) -> None:
        config = EmulatorConfig.from_env(
            {
                "NOVITA_EMULATOR_PRESET": "realistic",
                "NOVITA_EMULATOR_SPEED": "0.5",
                "NOVITA_EMULATOR_NOT_FOUND_STATUS": "404",
                "NOVITA_EMULATOR_API_KEYS": "sk_a, sk_b,",
                "NOVITA_EMULATOR_RECLAIM_RATE": "2.5",
                "NOVITA_EMULATOR_RECLAIM_NOTICE_SECONDS": "30",
            }
        )
        assert config.steps.pulling == 90
        assert config.speed == 0.5
        assert config.not_found_status == 404
        assert config.api_keys == ["sk_a", "sk_b"]
        assert config.random_reclaim_rate_per_hour == 2.5
        assert config.spot_reclaim_notice_seconds == 30

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("NOVITA_EMULATOR_PRESET", "slow"),
            ("NOVITA_EMULATOR_SPEED", "fast"),
            ("NOVITA_EMULATOR_SPEED", "-1"),
            ("NOVITA_EMULATOR_NOT_FOUND_STATUS", "500"),
            ("NOVITA_EMULATOR_RECLAIM_RATE", "often"),
        ],
    )
    def test_bad_values_name_the_variable(self, variable: str, value: str) -> None:
        with pytest.raises(ValueError, match=variable):
            EmulatorConfig.from_env({variable: value})
