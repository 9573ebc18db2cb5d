"""Token scopes and how ``API_TOKENS`` entries name them (the bottom of ``auth``)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """What a token may do: ``read`` (every GET) or ``admin`` (everything, secrets included)."""

    READ = "read"
    ADMIN = "admin"


def parse_env_token(entry: str) -> tuple[str, Scope]:
    """An ``API_TOKENS`` entry as (token, scope): ``read:tok``, ``admin:tok`` or ``tok`` (admin,
    as before scopes existed)."""
    prefix, sep, rest = entry.partition(":")
    if sep and rest and prefix in {Scope.READ.value, Scope.ADMIN.value}:
        return rest, Scope(prefix)
    return entry, Scope.ADMIN


def stored_scope(stored: str) -> Scope:
    """The scope in a token row; an unknown value (written by a newer version) grants the least."""
    return Scope(stored) if stored in {scope.value for scope in Scope} else Scope.READ
