"""The SDK's public surface is pinned (like httpx's tests/test_exported_members.py), and it
stands alone: importing it loads none of the server's packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import novita_gpu.client as sdk


def test_all_is_sorted_and_defined_in_the_sdk() -> None:
    assert sdk.__all__ == sorted(sdk.__all__, key=lambda n: (not n.isupper(), n))
    for name in sdk.__all__:
        value = getattr(sdk, name)
        assert isinstance(value, str) or value.__module__.startswith("novita_gpu.client")


def test_pinned_members() -> None:
    assert set(sdk.__all__) == {
        "DEFAULT_BASE_URL",
        "TOKEN_ENV",
        "URL_ENV",
        "ActionResult",
        "AsyncClient",
        "AsyncEphemeralInstance",
        "AuthenticationError",
        "AutoDelete",
        "AutoStop",
        "CleanupError",
        "Client",
        "CommandTimeout",
        "AutoStopCheck",
        "AutoStopStats",
        "CheckedInstance",
        "ConflictError",
        "ConnectionDetails",
        "CreateResult",
        "EphemeralInstance",
        "EphemeralOptions",
        "Event",
        "Health",
        "HealthCheck",
        "HeartbeatResult",
        "Instance",
        "InstanceFailedError",
        "InstancePage",
        "InvalidResponseError",
        "NetworkError",
        "NoCapacityError",
        "NotFoundError",
        "NovitaGPUError",
        "PortMapping",
        "ProbeResult",
        "ProductOffer",
        "RateLimitedError",
        "RemoteError",
        "Retries",
        "SSHTarget",
        "SpendLimitError",
        "Spend",
        "Spot",
        "SyncChange",
        "SyncResult",
        "UpstreamError",
        "ValidationError",
        "WaitError",
        "WaitTimeout",
    }


def test_ships_a_py_typed_marker() -> None:
    assert (Path(sdk.__file__).parent / "py.typed").is_file()


def test_imports_nothing_from_the_server() -> None:
    code = (
        "import sys, novita_gpu.client\n"
        "server = ('fastapi', 'sqlalchemy', 'starlette', 'uvicorn', 'typer', 'novita_gpu.core',"
        " 'novita_gpu.instances', 'novita_gpu.upstream', 'novita_gpu.emulator')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in server or m.startswith(server)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
