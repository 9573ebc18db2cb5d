"""Models are tolerant: unknown fields are kept, missing optional ones default."""

from __future__ import annotations

from datetime import UTC, datetime

from novita_gpu.client import Event, Instance


def test_new_server_fields_do_not_break_parsing() -> None:
    instance = Instance.model_validate(
        {"id": "inst_1", "name": "a", "status": "ready", "brandNewField": {"x": 1}}
    )
    assert instance.model_extra == {"brandNewField": {"x": 1}}
    assert instance.connection_details.endpoints == {}
    assert instance.health_check.status == "pending"


def test_wire_names_and_dates() -> None:
    instance = Instance.model_validate(
        {
            "id": "inst_1",
            "name": "a",
            "status": "ready",
            "novitaInstanceId": "nv",
            "connectionDetails": {
                "ssh": "ssh x",
                "webTerminal": "https://t",
                "endpoints": {"8888": "https://j"},
            },
            "portMappings": [{"port": 8888, "type": "http", "endpoint": "https://j"}],
            "readyAt": "2025-01-02T03:04:05.678Z",
        }
    )
    assert instance.novita_instance_id == "nv"
    assert instance.connection_details.web_terminal == "https://t"
    assert instance.port_mappings[0].endpoint == "https://j"
    assert instance.ready_at == datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert instance.is_ready
    assert not instance.has_given_up
    assert instance.model_dump(by_alias=True)["novitaInstanceId"] == "nv"


def test_history_and_stream_events_share_a_model() -> None:
    history = Event.model_validate(
        {"id": "e1", "type": "instance.ready", "instanceId": "i", "status": "ready", "data": {}}
    )
    streamed = Event.model_validate(
        {"id": "e1", "event": "instance.ready", "instanceId": "i", "error": "boom"}
    )
    assert history.type == streamed.type == "instance.ready"
    assert streamed.error == "boom"
