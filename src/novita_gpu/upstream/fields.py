"""Field types that absorb the real Novita API's value quirks.

Novita sends counts as strings (``"8"``), timestamps as Unix-second strings where ``"0"`` means
never, prices as integers or numeric strings in 1/100,000 USD, ``""`` where it means "none",
and ``null`` for empty lists. Each annotated type here turns one of those into a plain Python
value, so the models in :mod:`novita_gpu.upstream.models` stay declarative.

Unreadable scalars become ``None`` (or 0 for counts) instead of failing validation: one odd
field in one instance must not make a whole page of instances unreadable to the reconciler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr

PRICE_UNITS_PER_USD = 100_000
"""Novita prices are integers in units of 1/100,000 USD (``35000`` is $0.35 per hour)."""

_MILLISECONDS_THRESHOLD = 100_000_000_000
"""A Unix timestamp above this is in milliseconds (seconds would be past the year 5000)."""


def usd(units: int) -> Decimal:
    """Convert Novita price units (1/100,000 USD) to dollars, exactly."""
    return Decimal(units) / PRICE_UNITS_PER_USD


def region_code(display_name: str) -> str:
    """The cluster code in a product region label: ``"US-CA-06 (California)"`` -> ``"US-CA-06"``."""
    return display_name.split("(", 1)[0].strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> Decimal | None:
    """A finite number from an int, float or numeric string; ``None`` for anything else."""
    if _blank(value) or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_count(value: Any) -> int:
    """``8``, ``"8"`` or ``"8.0"`` -> 8; missing, ``""`` or unreadable -> 0."""
    return parse_optional_count(value) or 0


def _plain_int(value: Any) -> int | None:
    """``8`` or ``"8"`` as an int without going through Decimal (most values of a listing, read
    thousands of times per pass); ``None`` when the value needs the general parse."""
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    return None


def parse_optional_count(value: Any) -> int | None:
    """Like :func:`parse_count`, but missing, ``""`` or unreadable stays ``None``."""
    plain = _plain_int(value)
    if plain is not None:
        return plain
    number = _number(value)
    return None if number is None else int(number)


def parse_price_units(value: Any) -> int | None:
    """``35000`` or ``"35000"`` -> 35000 units; missing, ``""`` or unreadable -> ``None``."""
    number = _number(value)
    return None if number is None else int(number.to_integral_value())


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def parse_unix_time(value: Any) -> datetime | None:
    """Unix seconds (int or string) -> aware UTC datetime; ``"0"``, ``""``, ``-1`` -> ``None``.

    Millisecond timestamps and ISO-8601 strings are accepted too; anything else is ``None``.
    """
    if isinstance(value, datetime):
        return _aware(value)
    seconds: Decimal | int | None = _plain_int(value)
    if seconds is None:
        seconds = _number(value)
    if seconds is None:
        return _iso_time(value)
    if seconds <= 0:
        return None
    scale = 1000 if seconds > _MILLISECONDS_THRESHOLD else 1
    try:
        return datetime.fromtimestamp(float(seconds) / scale, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def empty_to_none(value: Any) -> Any:
    """``""`` (or whitespace) -> ``None``; anything else unchanged."""
    return None if _blank(value) else value


def none_to_empty_string(value: Any) -> Any:
    """``None`` -> ``""``; anything else unchanged."""
    return "" if value is None else value


def none_to_empty_list(value: Any) -> Any:
    """``None`` (and the old ``{}`` placeholder) -> ``[]``; anything else unchanged."""
    return [] if value is None or value == {} else value


def none_to_false(value: Any) -> Any:
    """``None`` or ``""`` -> ``False``; anything else is left to pydantic's bool parsing."""
    return False if _blank(value) else value


NullAsEmpty = BeforeValidator(none_to_empty_list)
"""Use as ``Annotated[list[X], NullAsEmpty]``: a ``null`` (or ``{}``) list reads as ``[]``."""
Count = Annotated[int, BeforeValidator(parse_count)]
OptionalCount = Annotated[int | None, BeforeValidator(parse_optional_count)]
PriceUnits = Annotated[int | None, BeforeValidator(parse_price_units)]
UnixTime = Annotated[datetime | None, BeforeValidator(parse_unix_time)]
Text = Annotated[str, BeforeValidator(none_to_empty_string)]
OptionalText = Annotated[str | None, BeforeValidator(empty_to_none)]
Secret = Annotated[SecretStr | None, BeforeValidator(empty_to_none)]
Flag = Annotated[bool, BeforeValidator(none_to_false)]


@dataclass(frozen=True, slots=True)
class SSHEndpoint:
    """Where to ssh: ``ssh -p {port} {user}@{host}``."""

    host: str
    port: int
    user: str


_SSH_OPTIONS_WITH_VALUE = frozenset({"-p", "-l", "-i", "-o", "-J", "-F", "-L", "-R", "-D"})


def _ssh_options(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split ssh arguments into ``{option: value}`` and positional arguments."""
    options: dict[str, str] = {}
    positional: list[str] = []
    pending: str | None = None
    for token in tokens:
        if pending is not None:
            options[pending], pending = token, None
        elif token in _SSH_OPTIONS_WITH_VALUE:
            pending = token
        elif token[:2] in _SSH_OPTIONS_WITH_VALUE and len(token) > 2:
            options[token[:2]] = token[2:]
        elif not token.startswith("-"):
            positional.append(token)
    return options, positional


def parse_ssh_command(command: str | None) -> SSHEndpoint | None:
    """Read host, port and user from a copy-paste ssh command.

    Accepts ``ssh -p 39655 root@proxy.as-sgp-2.gpu-instance.novita.ai``, the same with the
    options after the target, ``-p39655`` and ``-l root``. Returns ``None`` when there is no
    target host or the port is not a number. The port defaults to 22 and the user to ``root``.
    """
    tokens = (command or "").split()
    if tokens and tokens[0].rsplit("/", 1)[-1] == "ssh":
        tokens = tokens[1:]
    options, positional = _ssh_options(tokens)
    if not positional:
        return None
    user, _, host = positional[0].rpartition("@")
    port = options.get("-p", "22")
    if not host or not port.isdigit():
        return None
    return SSHEndpoint(host=host, port=int(port), user=user or options.get("-l", "root"))
