"""The public surface other packages import."""

from __future__ import annotations

import novita_gpu.emulator as emulator


def test_all_is_pinned_and_sorted() -> None:
    assert emulator.__all__ == [
        "EmulatorConfig",
        "EmulatorError",
        "EmulatorServer",
        "FaultKind",
        "FaultRule",
        "Product",
        "RegistryAuth",
        "StepDurations",
        "Template",
        "World",
        "create_emulator_app",
        "emulator_transport",
        "run_emulator",
    ]
    assert all(hasattr(emulator, name) for name in emulator.__all__)
