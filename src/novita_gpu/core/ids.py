"""Public identifiers: a prefix and a ULID, so ids sort by creation time."""

from __future__ import annotations

from ulid import ULID


def _new(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def new_instance_id() -> str:
    return _new("inst")


def new_event_id() -> str:
    return _new("evt")


def new_delivery_id() -> str:
    return _new("whd")


def new_token_id() -> str:
    return _new("tok")
