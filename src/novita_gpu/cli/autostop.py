"""``novita-gpu autostop stats|trigger``: the auto-stop check's status and on-demand runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table

from novita_gpu.cli import render
from novita_gpu.cli.remote import (
    EXIT_CODES_HELP,
    JsonOption,
    Remote,
    TokenOption,
    UrlOption,
    connect,
)
from novita_gpu.client import AutoStopCheck, AutoStopStats

app = typer.Typer(
    help="Idle auto-stop, runtime caps and auto-delete: status and manual checks.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
)

_OUTCOME_STYLE = {"done": "green", "planned": "cyan", "failed": "bold red", "skipped": "yellow"}


def _when(value: object) -> str:
    return "-" if value is None else str(value)


def check_table(check: AutoStopCheck) -> RenderableType:
    """One check: the counts on a line, then each instance a rule applied to."""
    mode = "dry run" if check.dry_run else "real run"
    summary = (
        f"{mode} at {_when(check.checked_at)}: checked {check.checked}, eligible "
        f"{check.eligible}, stopped {check.stopped}, deleted {check.deleted}, "
        f"errors {check.errors}"
    )
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("ID", "NAME", "ACTION", "REASON", "OUTCOME", "ERROR"):
        table.add_column(column)
    for item in check.instances:
        style = _OUTCOME_STYLE.get(item.outcome, "")
        outcome = f"[{style}]{item.outcome}[/]" if style else item.outcome
        table.add_row(
            item.instance_id, item.name or "-", item.action, item.reason, outcome, item.error or ""
        )
    return Group(summary, table) if check.instances else summary


def stats_view(stats: AutoStopStats) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = {
        "scheduler": "running" if stats.scheduler_running else "off",
        "check every": f"{stats.check_interval_minutes} min",
        "idle after": f"{stats.default_inactivity_threshold_minutes} min (default)",
        "grace": (
            f"{stats.creation_grace_period_minutes} min after create, "
            f"{stats.startup_grace_period_minutes} min after start"
        ),
        "last check": _when(stats.last_check_at),
        "next check": _when(stats.next_check_at),
    }
    if stats.spend is not None:
        rows["running spend"] = f"${stats.spend.running_usd_per_hour:.4f}/h"
        rows["saved by auto-stop"] = f"${stats.spend.saved_by_auto_stop_usd:.4f}"
    for key, value in rows.items():
        table.add_row(key, value)
    last = stats.last_result
    return Group(table, check_table(last)) if last else table


@app.command("stats")
def stats(url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False) -> None:
    """The check's settings, last and next run, last result, spend and savings."""
    remote = Remote(url, token, json_out)
    with connect(remote) as client:
        found = client.auto_stop_stats()
    if remote.json:
        render.print_json(found)
    else:
        render.console.print(stats_view(found))


@app.command("trigger")
def trigger(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run/--no-dry-run", help="Only report what would happen (the default)."),
    ] = True,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Run a check now; --no-dry-run really stops and deletes what is due."""
    remote = Remote(url, token, json_out)
    with connect(remote) as client:
        result = client.trigger_auto_stop(dry_run=dry_run)
    if remote.json:
        render.print_json(result)
    else:
        render.console.print(check_table(result))
