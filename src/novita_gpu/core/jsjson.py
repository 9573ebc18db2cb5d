"""JSON text that JavaScript's ``JSON.stringify(JSON.parse(text))`` reproduces byte for byte.

Webhook receivers written with Express often verify a signature over the re-serialised body,
so ours must already be in the form JavaScript produces: no spaces, non-ASCII kept as UTF-8,
key order as JavaScript keeps it (integer-like keys such as ``"22"`` first, ascending; the
rest in insertion order), lone surrogates escaped, and numbers printed by ECMAScript's
``Number::toString`` rules (``1.0`` is ``1``, ``1e-7`` is ``1e-7``, ``1e16`` is
``10000000000000000``). Integers beyond 2**53 are refused: JavaScript would round them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_MAX_SAFE_INTEGER = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_ARRAY_INDEX = 2**32 - 2


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits ``d`` and ``n`` with ``value == 0.d * 10**n`` (value > 0)."""
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    point -= len(whole + fraction) - len((whole + fraction).lstrip("0"))
    return digits.rstrip("0") or "0", point


def js_number(value: float) -> str:
    """``value`` as JavaScript's ``String(value)`` prints it (non-finite becomes ``null``)."""
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(abs(value))
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        power = n - 1
        head = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{head}e{'+' if power > 0 else '-'}{abs(power)}"
    return sign + body


def _array_index(key: str) -> int | None:
    """The integer a key stands for when JavaScript treats it as an array index."""
    if not key.isdigit() or (len(key) > 1 and key[0] == "0") or not key.isascii():
        return None
    number = int(key)
    return number if number <= _MAX_ARRAY_INDEX else None


def _js_key_order(keys: list[str]) -> list[str]:
    """Object keys in JavaScript's order: array indices ascending, then the rest as given."""
    indices = sorted((index, key) for key in keys if (index := _array_index(key)) is not None)
    return [key for _, key in indices] + [key for key in keys if _array_index(key) is None]


def _string(value: str) -> str:
    if _SURROGATE.search(value):
        # Two halves that form a pair are one character in JavaScript: join them first.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    text = json.dumps(value, ensure_ascii=False)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def dumps(value: Any) -> str:
    """Compact JSON text in JavaScript's canonical form (see the module docstring)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError("integer outside JavaScript's safe range; send it as a string")
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, dict):
        keys = _js_key_order([str(key) for key in value])
        pairs = {str(key): item for key, item in value.items()}
        return "{" + ",".join(f"{_string(key)}:{dumps(pairs[key])}" for key in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
