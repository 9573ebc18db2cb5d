"""``novita-gpu doctor``: check the live configuration against Novita before serving.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 the configuration is
unusable (no ``NOVITA_API_KEY``, a bad value).
"""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import typer
from rich.console import Console
from rich.table import Table

from novita_gpu.app import upstream_policy
from novita_gpu.cli.common import EXIT_CONFIG, settings_or_exit
from novita_gpu.core.clock import SystemClock
from novita_gpu.core.config import Settings
from novita_gpu.upstream import NovitaClient
from novita_gpu.upstream.doctor import DOCTOR_PAGE_SIZE, Check, Verdict, run_checks

EXIT_FAILED = 1
_STYLE = {Verdict.OK: "green", Verdict.WARN: "yellow", Verdict.FAIL: "bold red"}


def doctor(
    page_size: int = typer.Option(
        DOCTOR_PAGE_SIZE, min=1, max=100, help="Instances per page while checking paging."
    ),
) -> None:
    """Check NOVITA_API_KEY, regions, products, paging and response shapes (reads only)."""
    settings = settings_or_exit()
    console = Console()
    if settings.novita_api_key is None:
        console.print(
            "[bold red]NOVITA_API_KEY is not set[/]: the service would run against its built-in"
            " emulator. Set it (and NOVITA_API_BASE_URL if needed) to check a real account."
        )
        raise typer.Exit(EXIT_CONFIG)
    checks = asyncio.run(_run(settings, page_size))
    console.print(_table(checks))
    failed = [c for c in checks if c.verdict is Verdict.FAIL]
    if failed:
        console.print(f"[bold red]{len(failed)} check(s) failed[/]: {failed[0].detail}")
        raise typer.Exit(EXIT_FAILED)
    console.print("[green]ready for live mode[/]")


async def _run(settings: Settings, page_size: int) -> list[Check]:
    policy = dataclasses.replace(upstream_policy(settings), max_attempts=1)
    key = settings.novita_api_key.get_secret_value() if settings.novita_api_key else ""
    async with httpx.AsyncClient(timeout=settings.upstream_timeout_seconds) as http:
        client = NovitaClient(
            http,
            base_url=str(settings.novita_api_base_url),
            api_key=key,
            policy=policy,
            clock=SystemClock(),
        )
        return await run_checks(client, page_size)


def _table(checks: list[Check]) -> Table:
    table = Table(title="novita-gpu doctor", show_lines=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in checks:
        style = _STYLE[check.verdict]
        table.add_row(check.name, f"[{style}]{check.verdict.value}[/]", check.detail)
    return table
