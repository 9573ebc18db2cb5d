"""Fixtures for SDK unit tests: a recording ``httpx.MockTransport`` with scripted answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from novita_gpu.client import Client, Retries

BASE_URL = "http://server.test"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def instance_json(
    instance_id: str = "inst_1", status: str = "creating", **extra: Any
) -> dict[str, Any]:
    """A minimal instance object as the server renders it."""
    return {
        "id": instance_id,
        "name": "job-1",
        "status": status,
        "novitaInstanceId": "nv-1",
        "productName": "RTX 4090 24GB",
        "connectionDetails": {"ssh": "ssh root@host", "endpoints": {}},
        "createdAt": "2025-01-01T00:00:00.000Z",
        **extra,
    }


def error_json(code: str, message: str = "nope", **extra: Any) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": None, "requestId": "req-1", **extra}
    }


@dataclass
class Recorder:
    """Answers requests from a script (one answer per request, the last one repeats) and
    records every request it saw."""

    answers: list[Answer] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    def reply(self, *answers: Answer) -> Recorder:
        self.answers = list(answers)
        return self

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder().reply(httpx.Response(200, json=instance_json()))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(recorder: Recorder, sleeps: list[float]) -> Iterator[Client]:
    retries = Retries(jitter=0)
    with Client(
        BASE_URL, transport=httpx.MockTransport(recorder), retries=retries, sleep=sleeps.append
    ) as sdk:
        yield sdk
