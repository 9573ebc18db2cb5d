"""How the client commands print: rich tables for people, JSON for scripts.

JSON output is the server's own camelCase shape (``model_dump(by_alias=True)``), so a script
can switch between the CLI and the HTTP API without relearning field names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import typer
from pydantic import BaseModel
from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from novita_gpu.client import Event, Instance, ProductOffer

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

_STATUS_STYLE = {
    "ready": "bold green",
    "running": "green",
    "stopped": "dim",
    "deleted": "dim",
    "failed": "bold red",
    "terminated": "bold red",
}


def as_json(value: BaseModel | Sequence[BaseModel]) -> Any:
    """The JSON-ready form of a model (camelCase, as the API sends it) or a list of them."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return [item.model_dump(mode="json", by_alias=True) for item in value]


def print_json(value: BaseModel | Sequence[BaseModel], *, indent: int | None = 2) -> None:
    """``value`` as JSON on stdout (plain text: no colour codes to trip a parser)."""
    typer.echo(json.dumps(as_json(value), indent=indent))


def status_text(status: str) -> Text:
    return Text(status, style=_STATUS_STYLE.get(status, "yellow"))


def _money(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"${value:.{digits}f}"


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "-"
    seconds = max(0.0, ((now or datetime.now(UTC)) - when).total_seconds())
    return f"{_duration(seconds)} ago"


_WIDE = 120
_LIST_COLUMNS: tuple[tuple[str, Callable[[Instance], str | Text], bool], ...] = (
    ("ID", lambda i: i.id, False),
    ("NAME", lambda i: i.name, False),
    ("STATUS", lambda i: status_text(i.status), False),
    ("REGION", lambda i: i.region or "-", True),
    ("PRODUCT", lambda i: i.product_name or "-", True),
    ("GPUS", lambda i: str(i.gpu_num or "-"), True),
    ("$/H", lambda i: _money(i.price_per_hour), False),
    ("UPTIME", lambda i: _duration(i.runtime_seconds), True),
    ("LAST USED", lambda i: _ago(i.last_used_at), True),
)


def instance_table(
    instances: Iterable[Instance], total: int | None = None, *, width: int | None = None
) -> Table:
    """One row per instance; on a terminal narrower than 120 columns, only the columns
    that identify an instance (id, name, status, price) so nothing gets cut."""
    wide = (width or console.width) >= _WIDE
    columns = [(name, cell) for name, cell, wide_only in _LIST_COLUMNS if wide or not wide_only]
    title = None if total is None else f"{total} instance{'s' if total != 1 else ''}"
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name, _ in columns:
        table.add_column(name, no_wrap=name in {"ID", "STATUS"})
    for item in instances:
        table.add_row(*(cell(item) for _, cell in columns))
    return table


def _fields(instance: Instance) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("id", instance.id),
        ("status", status_text(instance.status)),
        ("upstream", f"{instance.upstream_status or '-'} ({instance.novita_instance_id or '-'})"),
        ("product", f"{instance.product_name} x{instance.gpu_num} ({instance.billing_mode})"),
        ("region", instance.region or "-"),
        ("price", f"{_money(instance.price_per_hour)}/h"),
        (
            "uptime",
            f"{_duration(instance.runtime_seconds)} ({_money(instance.estimated_cost_usd, 2)})",
        ),
        ("last used", _ago(instance.last_used_at)),
        (
            "created",
            instance.created_at.isoformat(timespec="seconds") if instance.created_at else "-",
        ),
    ]
    if instance.last_error:
        rows.append(("last error", Text(instance.last_error, style="red")))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def connection_panel(instance: Instance) -> Panel:
    """SSH, Jupyter, web terminal and every exposed endpoint, ready to copy."""
    details = instance.connection_details
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for label, value in (
        ("ssh", details.ssh),
        ("ssh password", details.ssh_password),
        ("jupyter", details.jupyter),
        ("web terminal", details.web_terminal),
    ):
        if value:
            grid.add_row(label, value)
    for port, url in sorted(details.endpoints.items()):
        grid.add_row(f"port {port}", url or "-")
    return Panel(grid, title=f"{instance.name}: connection", title_align="left", expand=False)


def _probes(instance: Instance) -> Table:
    check = instance.health_check
    table = Table(title=f"health check: {check.status}", title_justify="left", header_style="bold")
    for column in ("PORT", "STATUS", "HTTP", "MS", "ERROR"):
        table.add_column(column)
    for probe in check.endpoints:
        ms = "-" if probe.response_time_ms is None else f"{probe.response_time_ms:.0f}"
        table.add_row(
            str(probe.port), probe.status, str(probe.http_status or "-"), ms, probe.error or ""
        )
    return table


def instance_detail(instance: Instance) -> RenderableType:
    parts: list[RenderableType] = [Text(instance.name, style="bold"), _fields(instance)]
    parts.append(connection_panel(instance))
    if instance.health_check.endpoints:
        parts.append(_probes(instance))
    return Group(*parts)


def products_table(offers: Iterable[ProductOffer]) -> Table:
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("PRODUCT", "REGION", "BILLING", "$/GPU-H", "SPOT", "ON-DEMAND", "AVAILABLE"):
        table.add_column(column)
    for offer in offers:
        available = (
            Text("yes", style="green")
            if offer.available
            else Text(offer.reason or "no", style="red")
        )
        table.add_row(
            offer.product_name,
            offer.region or "-",
            offer.billing_mode or "-",
            _money(offer.price_per_hour),
            _money(offer.spot_price),
            _money(offer.on_demand_price),
            available,
        )
    return table


def event_line(event: Event) -> Text:
    """``time  type  name id  [status]  [error]`` on one line (status only when the type
    does not already say it)."""
    when = event.timestamp.isoformat(timespec="seconds") if event.timestamp else "-"
    name = event.instance.name if event.instance else ""
    line = Text.assemble((when, "dim"), "  ", (event.type, "bold"), "  ")
    line.append(f"{name} {event.instance_id}".strip())
    if event.status and event.type != f"instance.{event.status}":
        line.append("  ")
        line.append_text(status_text(event.status))
    error = event.error or event.data.get("error")
    if error:
        line.append(f"  {error}", style="red")
    return line
