"""The API key never shows up in reprs, errors, tracebacks or log lines."""

from __future__ import annotations

import traceback

import httpx
import pytest
from structlog.testing import capture_logs

from novita_gpu.upstream import CreateInstanceRequest, NovitaClient, UpstreamError
from tests.upstream.conftest import API_KEY, FakeNovita, MakeClient, error_reply, reply

FAILURES = [
    error_reply(500, "UNKNOWN"),
    httpx.ReadTimeout("slow"),
    httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("dropped"),
    error_reply(401, "UNAUTHORIZED", "bad key"),
    httpx.Response(200, text="<html>"),
]


def test_reprs(client: NovitaClient) -> None:
    assert API_KEY not in repr(client)
    assert API_KEY not in repr(vars(client))
    assert repr(client) == (
        "NovitaClient(base_url='https://api.novita.ai/gpu-instance/openapi/v1')"
    )


@pytest.mark.parametrize("failure", FAILURES)
async def test_errors_tracebacks_and_logs(
    failure: httpx.Response | Exception, make_client: MakeClient, novita: FakeNovita
) -> None:
    novita.on("/gpu/instance/create", failure)
    novita.on("/gpu/instance", failure, failure, reply(body={"id": "x"}))
    client = make_client(max_attempts=2)
    request = CreateInstanceRequest(name="n", product_id="p", image_url="i")
    raised: list[BaseException] = []
    with capture_logs() as logs:
        for call in (client.get_instance("x"), client.create_instance(request)):
            with pytest.raises(UpstreamError) as caught:
                await call
            raised.append(caught.value)
    text = "".join("".join(traceback.format_exception(error)) for error in raised)
    text += repr(logs) + "".join(repr(vars(error)) for error in raised)
    assert API_KEY not in text
    assert novita.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
