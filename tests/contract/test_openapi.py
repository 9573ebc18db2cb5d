"""``/openapi.json`` is the contract clients generate code from.

The snapshot makes every change to it deliberate: after changing the API on purpose, run
``UPDATE_OPENAPI_SNAPSHOT=1 ./dev pytest tests/contract/test_openapi.py`` and review the diff of
``tests/contract/openapi.json``. The other tests state what every operation must declare.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from novita_gpu.app import create_app
from tests.support.settings import make_settings

SNAPSHOT = Path(__file__).with_name("openapi.json")
METHODS = {"get", "post", "put", "patch", "delete"}
NOT_JSON = {("/api/events", "get"), ("/metrics", "get")}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("openapi") / "unused.db"
    document: dict[str, Any] = create_app(make_settings(f"sqlite:///{path}")).openapi()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_matches_the_snapshot(spec: dict[str, Any]) -> None:
    rendered = json.dumps(spec, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), (
        "the OpenAPI document changed; if on purpose, regenerate the snapshot (module docstring)"
    )


def test_every_operation_is_tagged_summarised_and_described(spec: dict[str, Any]) -> None:
    lacking = [
        f"{method.upper()} {path}"
        for path, method, op in operations(spec)
        if not (op.get("tags") and op.get("summary"))
        or (path.startswith("/api/") and not op.get("description", "").strip())
    ]
    assert lacking == []


def test_every_json_success_has_a_schema(spec: dict[str, Any]) -> None:
    lacking = []
    for path, method, op in operations(spec):
        if (path, method) in NOT_JSON or not path.startswith("/api/"):
            continue
        successes = [r for code, r in op["responses"].items() if code.startswith("2")]
        schemas = [
            r.get("content", {}).get("application/json", {}).get("schema") for r in successes
        ]
        if not all(schemas):
            lacking.append(f"{method.upper()} {path}")
    assert lacking == []


def test_errors_are_the_envelope_with_real_statuses(spec: dict[str, Any]) -> None:
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, method, op in operations(spec):
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert "422" not in errors or "HTTPValidationError" not in json.dumps(errors["422"])
        for code, response in errors.items():
            if (path, code) == ("/health", "503"):
                continue  # unhealthy: the health body itself
            assert response["content"]["application/json"]["schema"] == envelope, (path, code)
            assert response["description"].replace("_", "").replace(", ", "").isalnum()
        if op.get("parameters") or op.get("requestBody"):
            assert "VALIDATION_ERROR" in errors["400"]["description"], (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_security_schemes_cover_everything_but_health(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    for path, _, op in operations(spec):
        expected: list[dict[str, list[str]]] = (
            [] if path.startswith("/health") else [{"bearerAuth": []}, {"apiKeyAuth": []}]
        )
        assert op["security"] == expected, path
        assert ("401" in op["responses"]) == bool(expected), path


def test_statuses_and_modes_are_enums(spec: dict[str, Any]) -> None:
    properties = spec["components"]["schemas"]["InstanceOut"]["properties"]
    schemas = spec["components"]["schemas"]
    resolved = {
        name: schemas[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
        for name, prop in properties.items()
    }
    assert "ready" in resolved["status"]["enum"]
    assert set(resolved["billingMode"]["enum"]) == {"spot", "onDemand"}
    assert set(resolved["spotRecovery"]["enum"]) == {"none", "migrate", "recreate"}
    assert "instance.ready" in schemas["EventType"]["enum"]
