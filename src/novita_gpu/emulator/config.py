"""Emulator settings: lifecycle timings, error flavour, auth and world seeding.

Durations are seconds of *simulated* time (the world's clock). ``speed`` multiplies every
simulated duration: ``1`` keeps them as configured, ``0.5`` halves them, ``0`` makes every
transition instant. Three presets exist:

- ``instant``: every step takes no time (a create is ``running`` and serving at once);
- ``fast`` (default): a new instance is ``running`` after ~2 s and its ports answer ~1 s later;
- ``realistic``: minutes, like the real service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field

from novita_gpu.emulator.shapes import Shapes

PresetName = Literal["fast", "realistic", "instant"]
RECLAIM_RATE_ENV = "NOVITA_EMULATOR_RECLAIM_RATE"


class StepDurations(BaseModel):
    """Seconds spent in each transitional status before the next one is entered."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    to_create: float = Field(default=0.2, ge=0)
    creating: float = Field(default=0.5, ge=0)
    pulling: float = Field(default=1.0, ge=0)
    to_start: float = Field(default=0.2, ge=0)
    starting: float = Field(default=0.8, ge=0)
    to_stop: float = Field(default=0.2, ge=0)
    stopping: float = Field(default=0.5, ge=0)
    to_restart: float = Field(default=0.2, ge=0)
    restarting: float = Field(default=0.8, ge=0)
    to_remove: float = Field(default=0.2, ge=0)
    removing: float = Field(default=0.5, ge=0)
    migrate_pulling: float = Field(default=1.0, ge=0)
    migrate_running: float = Field(default=1.0, ge=0)
    spot_reclaiming: float = Field(default=0.5, ge=0)


_REALISTIC_STEPS = StepDurations(
    to_create=5,
    creating=20,
    pulling=90,
    to_start=5,
    starting=40,
    to_stop=3,
    stopping=15,
    to_restart=5,
    restarting=40,
    to_remove=3,
    removing=10,
    migrate_pulling=60,
    migrate_running=120,
    spot_reclaiming=30,
)


class EmulatorConfig(BaseModel):
    """Everything that shapes one emulator instance. Mutable: the server sets
    ``endpoint_base_url`` once its port is known."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    steps: StepDurations = Field(default_factory=StepDurations)
    app_boot_seconds: float = Field(default=1.0, ge=0)
    """After ``running``, how long until the instance's http ports answer 200."""
    speed: float = Field(default=1.0, ge=0)
    """Multiplier applied to every simulated duration (0 = instant)."""
    spot_reclaim_notice_seconds: float = Field(default=120, ge=0)
    """Default notice between ``notified`` and ``reclaiming`` (not scaled by ``speed``)."""
    random_reclaim_rate_per_hour: float = Field(default=0.0, ge=0)
    """Mean random reclaims per running spot instance per simulated hour (0 = never)."""
    removed_retention_seconds: float = Field(default=60, ge=0)
    """How long a deleted instance still answers ``removed`` before it is not-found."""
    not_found_status: Literal[400, 404] = 400
    api_keys: list[str] | None = None
    """Accepted Bearer keys; ``None`` accepts any non-empty key."""
    endpoint_base_url: str | None = None
    """Public root URL of the port-endpoint listener (set by :class:`EmulatorServer`)."""
    seed_default_world: bool = True
    random_seed: int | None = None
    shapes: Shapes = Field(default_factory=Shapes)
    """Which of the disputed response shapes to send (:mod:`novita_gpu.emulator.shapes`)."""
    ssh_enabled: bool = False
    """Serve SSH and SFTP into running instances (a development aid; see ``emulator/ssh.py``)."""
    ssh_address: tuple[str, int] | None = None
    """Where that SSH server listens (set by :class:`EmulatorServer` once it is bound)."""
    ssh_host_key: str | None = None
    """Its public host key, ``ssh-ed25519 AAAA...`` (set with ``ssh_address``)."""

    @classmethod
    def preset(cls, name: PresetName = "fast") -> EmulatorConfig:
        """A config with the named timing preset.

        Raises ``ValueError`` for an unknown name.
        """
        if name == "fast":
            return cls()
        if name == "instant":
            return cls(speed=0)
        if name == "realistic":
            return cls(steps=_REALISTIC_STEPS.model_copy(), app_boot_seconds=30)
        raise ValueError(f"unknown emulator preset {name!r}; use one of {get_args(PresetName)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Build from ``NOVITA_EMULATOR_*`` variables (preset, speed, not-found status, keys,
        shape set, random spot reclaims per instance-hour and their notice in seconds,
        ``NOVITA_EMULATOR_SSH``).

        Raises ``ValueError`` naming the variable when a value is invalid.
        """
        env = os.environ if environ is None else environ
        preset = env.get("NOVITA_EMULATOR_PRESET", "fast").strip() or "fast"
        if preset not in get_args(PresetName):
            raise ValueError(f"NOVITA_EMULATOR_PRESET must be one of {get_args(PresetName)}")
        config = cls.preset(cast(PresetName, preset))
        if speed := env.get("NOVITA_EMULATOR_SPEED", "").strip():
            config.speed = _parse_float("NOVITA_EMULATOR_SPEED", speed)
        if status := env.get("NOVITA_EMULATOR_NOT_FOUND_STATUS", "").strip():
            if status not in ("400", "404"):
                raise ValueError("NOVITA_EMULATOR_NOT_FOUND_STATUS must be 400 or 404")
            config.not_found_status = 404 if status == "404" else 400
        if rate := env.get(RECLAIM_RATE_ENV, "").strip():
            config.random_reclaim_rate_per_hour = _parse_float(RECLAIM_RATE_ENV, rate)
        if notice := env.get("NOVITA_EMULATOR_RECLAIM_NOTICE_SECONDS", "").strip():
            config.spot_reclaim_notice_seconds = _parse_float(
                "NOVITA_EMULATOR_RECLAIM_NOTICE_SECONDS", notice
            )
        if keys := env.get("NOVITA_EMULATOR_API_KEYS", "").strip():
            config.api_keys = [key.strip() for key in keys.split(",") if key.strip()]
        if shapes := env.get("NOVITA_EMULATOR_SHAPES", "").strip():
            config.shapes = Shapes.named(shapes)
        if ssh := env.get("NOVITA_EMULATOR_SSH", "").strip():
            config.ssh_enabled = _parse_bool("NOVITA_EMULATOR_SSH", ssh)
        return config

    def scaled(self, seconds: float) -> float:
        """``seconds`` of configured duration after applying ``speed``."""
        return seconds * self.speed


def _parse_float(variable: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{variable} must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{variable} must not be negative")
    return value


def _parse_bool(variable: str, raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{variable} must be true or false, got {raw!r}")
