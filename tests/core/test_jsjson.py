"""jsjson output must be what JavaScript's JSON.stringify(JSON.parse(text)) gives back."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novita_gpu.core import jsjson

EDGE_NUMBERS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    0.35,
    1.5,
    100.0,
    1e-6,
    1e-7,
    1.5e-7,
    1.2345e-6,
    123456.789,
    1e15,
    1e16,
    1e20,
    1e21,
    1.2345678901234567e20,
    5e-324,
    1.7976931348623157e308,
    2.5e-5,
    0.000123,
    123e-20,
    9007199254740991.0,
    0.1 + 0.2,
]
EDGE_STRINGS = [
    "",
    "plain",
    'quote " and \\ backslash',
    "tab\tnewline\ncr\r",
    "\x00\x01\x1f\x7f",
    "ünïcödé ✓ 日本語",
    "emoji 🎉",
    "line\u2028sep\u2029",
    "lone \ud800 surrogate",
    "split pair \ud834\udd1e joined",
    "reversed \udd1e\ud834 halves",
    "</script>",
]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice(EDGE_STRINGS) + str(rng.random())
    if kind == 1:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-12, 12)
    if kind == 2:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind in (4, 5):
        keys = [f"k{i}{rng.choice(EDGE_STRINGS)}" for i in range(3)]
        keys += [str(rng.choice([0, 7, 22, 8888, 10**10, 4294967294])), "01"]
        return {key: _random_value(rng, depth + 1) for key in keys}
    return [_random_value(rng, depth + 1) for _ in range(3)]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_reserialises_identically() -> None:
    rng = random.Random(7)
    values: list[Any] = [*EDGE_NUMBERS, *EDGE_STRINGS]
    values += [_random_value(rng) for _ in range(1500)]
    texts = [jsjson.dumps(value) for value in values]
    script = (
        "const lines = require('fs').readFileSync(0, 'utf8').split('\\n').filter(Boolean);"
        "for (const line of lines) { const t = JSON.parse(line);"
        "process.stdout.write(JSON.stringify(JSON.stringify(JSON.parse(t))) + '\\n'); }"
    )
    stdin = "\n".join(json.dumps(text) for text in texts) + "\n"
    result = subprocess.run(
        ["node", "-e", script], input=stdin, capture_output=True, text=True, check=True
    )
    echoed = [json.loads(line) for line in result.stdout.split("\n") if line]
    mismatches = [(a, b) for a, b in zip(texts, echoed, strict=True) if a != b]
    assert mismatches == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (1e16, "10000000000000000"),
        (0.35, "0.35"),
        (float("nan"), "null"),
    ],
)
def test_numbers_print_like_javascript(value: float, expected: str) -> None:
    assert jsjson.js_number(value) == expected


def test_integer_like_keys_come_first_like_javascript() -> None:
    value = {"8888": "a", "b": 1, "22": "c", "007": 2, "4294967295": 3, "1": 4}
    assert jsjson.dumps(value) == ('{"1":4,"22":"c","8888":"a","b":1,"007":2,"4294967295":3}')


def test_compact_and_utf8() -> None:
    assert jsjson.dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'


def test_unsafe_integer_is_refused() -> None:
    with pytest.raises(ValueError, match="safe range"):
        jsjson.dumps(2**53)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_parses_back_to_the_same_value(value: Any) -> None:
    parsed = json.loads(jsjson.dumps(value).encode("utf-8", "surrogatepass"))
    assert _same(parsed, value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, float):
        return isinstance(a, int | float) and float(a) == b
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)
