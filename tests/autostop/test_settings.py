"""Durations accept fractions of a minute; bad values are a clear start-up error or a 400."""

from __future__ import annotations

import pytest

from novita_gpu.core.config import ConfigError, load_settings
from tests.conftest import Api
from tests.instances.helpers import body


def test_fractional_minutes_are_accepted() -> None:
    settings = load_settings(
        _env_file=None, auto_stop_check_interval_minutes="0.05", auto_stop_idle_minutes="0.5"
    )
    assert settings.auto_stop_check_interval_minutes == 0.05
    assert settings.auto_stop_idle_minutes == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("auto_stop_idle_minutes", "0"),
        ("auto_stop_check_interval_minutes", "0"),
        ("auto_stop_startup_grace_minutes", "-1"),
        ("auto_stop_creation_grace_minutes", "soon"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name.upper()):
        load_settings(_env_file=None, **{name: value})


@pytest.mark.parametrize(
    "fields",
    [
        {"autoStop": {"idleMinutes": 0}},
        {"autoStop": {"idleMinutes": "soon"}},
        {"autoDelete": {"afterStoppedMinutes": -1}},
        {"maxRuntimeMinutes": 0},
    ],
)
async def test_bad_minutes_are_a_400(api: Api, fields: dict[str, object]) -> None:
    response = await api.client.post("/api/instances", json=body("bad", **fields))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_fractional_minutes_are_stored_and_echoed(api: Api) -> None:
    fields = {"autoStop": {"idleMinutes": 0.5}, "maxRuntimeMinutes": 1.5}
    response = await api.client.post("/api/instances", json=body("frac", **fields))
    instance = response.json()["instance"]
    assert instance["autoStop"] == {"enabled": True, "idleMinutes": 0.5}
    assert instance["maxRuntimeMinutes"] == 1.5
