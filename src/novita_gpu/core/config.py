"""Settings: one typed object built from the environment (and a ``.env`` file).

Variable names are those of the original service, with the meaning they had there, so an
existing ``.env`` keeps working (durations keep their original units: ``REQUEST_TIMEOUT`` and
``WEBHOOK_TIMEOUT`` in milliseconds, ``INSTANCE_POLL_INTERVAL`` in seconds). Settings are built
by :func:`load_settings` and passed to ``create_app``; nothing reads the environment at import.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from novita_gpu.core.targets import literal_refusal

DEFAULT_SQLITE_URL = "sqlite:///./data/novita-gpu.db"
DEFAULT_NOVITA_API_BASE_URL = "https://api.novita.ai/gpu-instance/openapi"

CommaList = Annotated[list[str], NoDecode]


class ConfigError(Exception):
    """A setting has a bad value; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Every knob of the service. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    # Server
    port: int = Field(3000, ge=0, le=65535)
    host: str = "127.0.0.1"
    log_level: Literal["debug", "info", "warn", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    database_url: str = DEFAULT_SQLITE_URL
    max_body_bytes: int = Field(1_048_576, ge=1024)

    # Upstream
    novita_api_key: SecretStr | None = None
    novita_api_base_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_NOVITA_API_BASE_URL)
    novita_internal_api_key: SecretStr | None = None
    novita_internal_api_base_url: AnyHttpUrl | None = None
    request_timeout: int = Field(30_000, ge=100, description="upstream request timeout, ms")
    max_retry_attempts: int = Field(3, ge=1, le=10)
    upstream_max_concurrency: int = Field(16, ge=1, le=256)
    upstream_rate_per_second: float = Field(20.0, gt=0)
    upstream_burst: int = Field(
        60, ge=1, description="upstream calls that may start at once after a quiet spell"
    )

    # Instances
    default_region: str = "CN-HK-01"
    instance_poll_interval: int = Field(30, ge=1, description="slow reconcile cadence, s")
    instance_fast_poll_interval: float = Field(3, ge=0.05, description="transitional cadence, s")
    instance_startup_timeout_minutes: int = Field(20, ge=1)
    create_listing_delay_seconds: float = Field(
        60,
        ge=0,
        description="wait (after the request timeout) before re-sending a create Novita "
        "does not list",
    )
    create_give_up_minutes: float = Field(15, gt=0)
    deleted_retention_days: int = Field(30, ge=0)
    catalog_cache_ttl: int = Field(300, ge=0, description="seconds")

    # Readiness probes
    health_check_timeout_ms: int = Field(10_000, ge=100)
    health_check_retry_attempts: int = Field(3, ge=0)
    health_check_retry_delay_ms: int = Field(2_000, ge=0)
    health_check_max_wait_time_ms: int = Field(300_000, ge=1_000)

    # Webhooks
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_timeout: int = Field(10_000, ge=100, description="per attempt, ms")
    webhook_max_attempts: int = Field(10, ge=1, le=100)
    webhook_retry_window: int = Field(86_400, ge=60, description="seconds")
    webhook_lease_seconds: float = Field(
        10, ge=3, le=600, description="a delivery's lease, renewed while its attempt runs"
    )
    webhook_allow_private_networks: bool | None = Field(
        None, description="unset: allowed only on a loopback server without API_TOKENS"
    )

    # Auto-stop, runtime caps, spend
    auto_stop_enabled: bool = True
    # Minutes; fractions allowed so demos and end-to-end tests can run in seconds.
    auto_stop_idle_minutes: float = Field(10, gt=0)
    auto_stop_startup_grace_minutes: float = Field(45, ge=0)
    auto_stop_creation_grace_minutes: float = Field(60, ge=0)
    auto_stop_check_interval_minutes: float = Field(2, ge=0.01)
    spend_limit_usd_per_hour: float | None = Field(None, gt=0)

    # Spot recovery
    migration_enabled: bool = True
    migration_interval_minutes: float = Field(15, gt=0)
    migration_dry_run: bool = False

    # HTTP surface and security
    enable_cors: bool = True
    allowed_origins: CommaList = Field(default_factory=list)
    rate_limit_window_ms: int = Field(60_000, ge=1_000)
    rate_limit_max_requests: int = Field(6_000, ge=1)
    api_tokens: CommaList = Field(default_factory=list)
    allow_unauthenticated: bool = False
    sse_max_streams: int = Field(
        200, ge=1, description="open GET /api/events streams per process; beyond it 503"
    )

    @field_validator("allowed_origins", "api_tokens", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _usable_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Standard Webhooks reads a ``whsec_`` secret as base64; it must decode.
        secret = value.get_secret_value() if value else ""
        if secret.startswith("whsec_") and not _base64_key(secret.removeprefix("whsec_")):
            raise ValueError("a secret starting whsec_ must be base64 after the prefix")
        return value

    @model_validator(mode="after")
    def _loopback_unless_authenticated(self) -> Settings:
        if not self.api_tokens and not self.allow_unauthenticated and not _is_loopback(self.host):
            raise ValueError(
                f"HOST={self.host} is not loopback and no API_TOKENS are set; "
                "set API_TOKENS or ALLOW_UNAUTHENTICATED=true"
            )
        return self

    @model_validator(mode="after")
    def _public_webhook_url(self) -> Settings:
        refusal = literal_refusal(str(self.webhook_url)) if self.webhook_url else None
        if refusal and not self.private_targets_allowed:
            raise ValueError(
                f"WEBHOOK_URL: {refusal}; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it"
            )
        return self

    @property
    def private_targets_allowed(self) -> bool:
        """May webhooks and probes reach loopback/private/link-local addresses?

        ``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` decides when set. Unset, they may only on a server
        that other hosts cannot reach: bound to loopback and without ``API_TOKENS``.
        """
        if self.webhook_allow_private_networks is not None:
            return self.webhook_allow_private_networks
        return _is_loopback(self.host) and not self.api_tokens

    @property
    def emulator_mode(self) -> bool:
        """True when no Novita key is configured: the service talks to an embedded emulator."""
        return self.novita_api_key is None

    @property
    def upstream_timeout_seconds(self) -> float:
        return self.request_timeout / 1000

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file the database URL points at, or None for PostgreSQL/in-memory."""
        prefix = self.database_url.split("///", 1)
        if not self.database_url.startswith("sqlite") or len(prefix) != 2 or not prefix[1]:
            return None
        return None if prefix[1] == ":memory:" else Path(prefix[1])


def _base64_key(text: str) -> bytes:
    """``text`` decoded as the ``standardwebhooks`` library does; empty when it is not base64."""
    try:
        return base64.b64decode(text + "==")
    except binascii.Error:
        return b""


def _is_loopback(host: str) -> bool:
    return host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127.")


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, ``.env`` and ``overrides``.

    Raises :class:`ConfigError` with one line per bad variable, naming it and what is wrong.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        secret = any(word in name for word in ("KEY", "SECRET", "TOKEN", "PASSWORD"))
        shown = f" (got {given!r})" if isinstance(given, str | int | float) and not secret else ""
        if name == "settings":
            lines.append(f"invalid configuration: {message}")
        else:
            lines.append(f"invalid {name}: {message}{shown}")
    return "; ".join(lines)
