"""Schemathesis over every operation of a live emulator-mode server, with a token configured.

Bounded (a few examples per operation, fixed seed) so it takes well under a minute. It must
find no server error, no status or body outside the documented ones, no schema-valid request
refused (see ``schemathesis.toml`` for the two parameters that are exceptions, and why), and no
schema-violating request accepted.

Not run: the SSE stream (it never ends), and the two checks about 405 answers to undocumented
methods (Starlette lists only the first matching route's methods in ``Allow``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.live import live_stack

TOKEN = "schemathesis-token"
CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

pytestmark = pytest.mark.slow


async def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    async with live_stack(tmp_path, api_tokens=[TOKEN]) as stack:
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS),
            "--no-color",
            "--config-file",
            str(CONFIG),
            "run",
            f"{stack.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--checks",
            "all",
            "--exclude-checks",
            "unsupported_method,allow_header_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "3",
            "--seed",
            "1",
            "--workers",
            "2",
            "--no-shrink",
            "--exclude-path-regex",
            "^/api/events$",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()

    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert " passed" in report
