"""Settings for tests: no .env file, emulator mode, explicit values."""

from __future__ import annotations

from typing import Any

from novita_gpu.core.config import Settings

EMULATOR_API_URL = "http://emulator.test/gpu-instance/openapi"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "novita_api_key": None,
        "novita_api_base_url": EMULATOR_API_URL,
        "webhook_url": None,
        "webhook_secret": None,
        "api_tokens": [],
        # Tests hammer one server from one address; the limiter has tests of its own.
        "rate_limit_max_requests": 1_000_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)
