"""Every shell and Python example in ``docs/`` runs against a live emulator-mode server.

The examples are written for ``./dev serve``: the only changes made before running them are
the server's address (``http://127.0.0.1:3000`` becomes the test server's) and the path of the
virtual environment's commands. A doc's shell blocks run in order in one ``bash -eo pipefail``
(so a variable set in one block is seen by the next), then its Python blocks in one process.
An example that cannot run here is preceded by ``<!-- docs-test: skip (reason) -->``.
Relative links in every Markdown file of the repository must resolve.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.live import live_stack

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DEFAULT_URL = "http://127.0.0.1:3000"
FENCE = re.compile(
    r"(?:<!-- docs-test: skip \((?P<reason>[^)]*)\) -->\n)?^```(?P<lang>\w*)\n(?P<code>.*?)^```",
    re.DOTALL | re.MULTILINE,
)
SHELL = {"sh", "bash", "shell"}
# Docs whose examples another test runs in full.
RUN_ELSEWHERE = {"python-client.md": "tests/e2e/test_readme_client.py"}


@dataclass(frozen=True)
class Example:
    language: str
    code: str
    skip_reason: str | None


def examples(doc: Path) -> list[Example]:
    found = []
    for match in FENCE.finditer(doc.read_text(encoding="utf-8")):
        language = "shell" if match["lang"] in SHELL else match["lang"]
        if language in {"shell", "python"}:
            found.append(Example(language, match["code"], match["reason"]))
    return found


def adapted(code: str, url: str) -> str:
    bin_dir = str(Path(sys.executable).parent)
    return code.replace(DEFAULT_URL, url).replace(".venv/bin/", f"{bin_dir}/")


RUNNABLE_DOCS = sorted(
    doc.name
    for doc in DOCS.glob("*.md")
    if doc.name not in RUN_ELSEWHERE and any(e.skip_reason is None for e in examples(doc))
)


def test_every_skip_states_a_reason() -> None:
    for doc in DOCS.glob("*.md"):
        for example in examples(doc):
            assert example.skip_reason is None or example.skip_reason.strip(), doc.name


@pytest.mark.slow
@pytest.mark.parametrize("name", RUNNABLE_DOCS)
async def test_examples_run_as_written(name: str, tmp_path: Path) -> None:
    runnable = [e for e in examples(DOCS / name) if e.skip_reason is None]
    async with live_stack(tmp_path) as stack:
        env = {
            **os.environ,
            "NOVITA_GPU_URL": stack.url,
            "PYTHONPATH": str(ROOT / "src"),
            # The project's commands (novita-gpu) as an installed user has them on PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop("NOVITA_GPU_TOKEN", None)
        for language in ("shell", "python"):
            blocks = [adapted(e.code, stack.url) for e in runnable if e.language == language]
            if blocks:
                await run(language, "\n".join(blocks), env, tmp_path)


async def run(language: str, script: str, env: dict[str, str], cwd: Path) -> None:
    command = ["bash", "-eo", "pipefail", "-c"] if language == "shell" else [sys.executable, "-c"]
    process = await asyncio.create_subprocess_exec(
        *command,
        script,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, f"{language} examples failed:\n{output.decode()[-3000:]}"


def markdown_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed] + [p for p in DOCS.glob("*.md") if p.exists()]


LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def test_relative_links_resolve() -> None:
    broken = []
    for doc in set(markdown_files()):
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if not re.match(r"^[a-z]+:", target) and not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_configuration_reference_names_every_setting() -> None:
    from novita_gpu.core.config import Settings

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []
