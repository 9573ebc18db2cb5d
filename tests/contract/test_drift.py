"""One definition per API object: the views the handlers build, the response models that
document them in OpenAPI, and the SDK's models must name the same fields.

Handlers return views built by hand (a fast path with no validation), so these tests compare
real responses, field by field and recursively, with the response models; and the SDK's
models with the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from novita_gpu import client as sdk
from novita_gpu.app import create_app
from novita_gpu.instances import schemas
from novita_gpu.reconciler.runner import Runner
from tests.conftest import Api
from tests.instances.helpers import create, settle
from tests.support.settings import make_settings


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def drift(model: type[BaseModel], data: Any, where: str = "") -> list[str]:
    """Every difference between the keys of ``data`` and the fields of ``model``, recursively."""
    if not isinstance(data, dict):
        return [f"{where or '.'}: expected an object, got {type(data).__name__}"]
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    problems = [f"{where}.{key}: not in {model.__name__}" for key in set(data) - set(fields)]
    required = {alias for alias, field in fields.items() if field.is_required()}
    problems += [f"{where}.{key}: missing" for key in required - set(data)]
    for alias, field in fields.items():
        if data.get(alias) is not None:
            problems += _nested(field.annotation, data[alias], f"{where}.{alias}")
    return problems


def _nested(annotation: Any, value: Any, where: str) -> list[str]:
    candidates = _models_in(annotation)
    if not candidates:
        return []
    items = value if isinstance(value, list) else [value]
    problems: list[str] = []
    for index, item in enumerate(items):
        found: list[list[str]] = [
            drift(candidate, item, f"{where}[{index}]") for candidate in candidates
        ]
        if all(found):  # a union matches if any member does
            problems.extend(sorted(found, key=len)[0])
    return problems


async def ready_with_history(api: Api, runner: Runner) -> str:
    created = await create(api, "drift", healthCheck={"retryDelayMs": 0})
    for _ in range(3):
        await settle(api, runner)
    instance_id: str = created["instanceId"]
    return instance_id


class TestViewsMatchResponseModels:
    async def test_instance_list_events_and_actions(self, api: Api, runner: Runner) -> None:
        instance_id = await ready_with_history(api, runner)
        responses: list[tuple[type[BaseModel], Any]] = [
            (schemas.InstanceOut, await api.client.get(f"/api/instances/{instance_id}")),
            (schemas.InstanceListOut, await api.client.get("/api/instances")),
            (schemas.EventListOut, await api.client.get(f"/api/instances/{instance_id}/events")),
            (schemas.ComprehensiveOut, await api.client.get("/api/instances/comprehensive")),
            (schemas.TouchOut, await api.client.put(f"/api/instances/{instance_id}/last-used")),
            (schemas.StopAllOut, await api.client.post("/api/instances/stop-all")),
            (schemas.ActionOut, await api.client.delete(f"/api/instances/{instance_id}")),
        ]
        for model, response in responses:
            assert response.status_code < 300, response.text
            assert drift(model, response.json()) == [], model.__name__
            model.model_validate(response.json())

    async def test_create_response(self, api: Api) -> None:
        created = await create(api, "fresh")
        assert drift(schemas.CreateInstanceOut, created) == []
        schemas.CreateInstanceOut.model_validate(created)


def test_drift_detects_an_undeclared_nested_field() -> None:
    probe = {"status": "healthy", "port": 80, "extra": 1}
    data = {"status": "partial", "endpoints": [probe]}
    assert drift(schemas.HealthCheckOut, data) == [".endpoints[0].extra: not in ProbeOut"]


SDK_MODELS = [
    pytest.param(sdk.Instance, "InstanceOut", set(), id="instance"),
    pytest.param(sdk.ConnectionDetails, "ConnectionDetailsOut", set(), id="connection"),
    pytest.param(sdk.HealthCheck, "HealthCheckOut", set(), id="health-check"),
    pytest.param(sdk.ProbeResult, "ProbeOut", set(), id="probe"),
    pytest.param(sdk.PortMapping, "PortMappingOut", set(), id="port-mapping"),
    pytest.param(sdk.AutoStop, "AutoStopOut", set(), id="auto-stop"),
    pytest.param(sdk.AutoDelete, "AutoDeleteOut", set(), id="auto-delete"),
    pytest.param(sdk.Spot, "SpotOut", set(), id="spot"),
    pytest.param(sdk.CreateResult, "CreateInstanceOut", set(), id="create"),
    pytest.param(sdk.ActionResult, "ActionOut", set(), id="action"),
    pytest.param(sdk.HeartbeatResult, "TouchOut", set(), id="heartbeat"),
    pytest.param(sdk.InstancePage, "InstanceListOut", set(), id="page"),
    # The stream sends the webhook payload: ``event`` for ``type``, plus instance and error.
    pytest.param(sdk.Event, "EventOut", {"instance", "error"}, id="event"),
    pytest.param(sdk.ProductOffer, "ProductOfferOut", set(), id="product-offer"),
]


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("drift") / "unused.db"
    spec = create_app(make_settings(f"sqlite:///{path}")).openapi()
    found: dict[str, Any] = spec["components"]["schemas"]
    return found


@pytest.mark.parametrize(("model", "schema", "stream_only"), SDK_MODELS)
def test_sdk_models_name_the_fields_the_openapi_documents(
    components: dict[str, Any], model: type[BaseModel], schema: str, stream_only: set[str]
) -> None:
    documented = set(components[schema]["properties"])
    sdk_fields = {field.alias or name for name, field in model.model_fields.items()}
    assert sdk_fields - stream_only == documented
