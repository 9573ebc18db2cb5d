"""The shared TLS client context: built once per process, whichever thread asks first."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field

import httpx
import pytest

from novita_gpu.core import tls


@dataclass
class Builds:
    contexts: list[ssl.SSLContext] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    """Start from no context and record each one built."""
    monkeypatch.setattr(tls, "_context", None)
    record = Builds()
    real = httpx.create_ssl_context

    def recorded_build() -> ssl.SSLContext:
        record.started.set()
        context = real()
        record.contexts.append(context)
        return context

    monkeypatch.setattr(httpx, "create_ssl_context", recorded_build)
    return record


def test_every_caller_gets_the_same_context(builds: Builds) -> None:
    first = tls.client_ssl_context()
    assert tls.client_ssl_context() is first
    assert builds.contexts == [first]


def test_a_caller_waits_for_the_background_build_instead_of_building_again(
    builds: Builds,
) -> None:
    tls.prepare_in_background()
    assert builds.started.wait(timeout=10)
    assert tls.client_ssl_context() is builds.contexts[0]
    assert len(builds.contexts) == 1


def test_the_context_verifies_servers(builds: Builds) -> None:
    context = tls.client_ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
