"""Helpers shared by CLI commands: settings loading with one-line errors."""

from __future__ import annotations

import typer

from novita_gpu.core.config import ConfigError, Settings, load_settings

EXIT_CONFIG = 2


def settings_or_exit(**overrides: object) -> Settings:
    """Load settings; on a bad value print one line naming the variable and exit 2."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return load_settings(**clean)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_CONFIG) from None
