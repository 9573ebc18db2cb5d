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


def test_a_failed_background_build_is_raised_at_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tls, "_context", None)
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/bundle.pem")
    thread_errors: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    tls.prepare_in_background()
    for thread in threading.enumerate():
        if thread.name == "tls-context":
            thread.join(timeout=10)
    assert thread_errors == []
    with pytest.raises(FileNotFoundError):
        tls.client_ssl_context()
