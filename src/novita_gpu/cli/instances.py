"""``novita-gpu instances ...``: manage instances on a running server through the SDK.

Every command takes ``--url``/``NOVITA_GPU_URL``, ``--token``/``NOVITA_GPU_TOKEN`` and
``--json``; an instance is named by its id (local or Novita) or by ``--name``.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any, Literal

import typer

from novita_gpu.cli import render
from novita_gpu.cli.events import show_events
from novita_gpu.cli.products import BillingMode
from novita_gpu.cli.remote import (
    EXIT_CODES_HELP,
    JsonOption,
    Remote,
    TokenOption,
    UrlOption,
    connect,
    usage_error,
)
from novita_gpu.client import ActionResult, Client, Instance, InstancePage

app = typer.Typer(
    help="Create, list and control instances on a running server.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
)

WAIT_POLL_SECONDS = 2.0
Verb = Literal["start", "stop", "delete"]
_WAIT_TARGET: dict[Verb, Literal["ready", "stopped", "deleted"]] = {
    "start": "ready",
    "stop": "stopped",
    "delete": "deleted",
}


IdArgument = Annotated[
    str | None,
    typer.Argument(help="Instance id (inst_... or the Novita id).", show_default=False),
]
NameOption = Annotated[
    str | None, typer.Option("--name", "-n", help="The instance's name instead of its id.")
]
WaitOption = Annotated[bool, typer.Option("--wait", help="Wait until the action has finished.")]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0, help="Seconds to wait with --wait.")
]


def target(instance_id: str | None, name: str | None) -> tuple[str, bool]:
    """``(reference, by_name)``; exactly one of an id and ``--name`` is required."""
    if (instance_id is None) == (name is None):
        usage_error("name the instance by id or by --name (one of them)")
    return (name, True) if name is not None else (instance_id or "", False)


def resolve_id(client: Client, instance_id: str | None, name: str | None) -> str:
    reference, by_name = target(instance_id, name)
    return client.get_instance_by_name(reference).id if by_name else reference


class WaitStatus(StrEnum):
    READY = "ready"
    RUNNING = "running"
    STOPPED = "stopped"
    DELETED = "deleted"


def wait_for(
    client: Client,
    instance_id: str,
    status: Literal["ready", "running", "stopped", "deleted"],
    timeout: float,
    remote: Remote,
) -> Instance:
    """Wait with a live status line on stderr (none with ``--json``)."""
    if remote.json:
        return client.wait_for_status(instance_id, status, timeout=timeout, poll=WAIT_POLL_SECONDS)
    with render.err_console.status(f"waiting for {status}...") as line:

        def show(instance: Instance) -> None:
            line.update(f"{instance.name}: [bold]{instance.status}[/] (waiting for {status})")

        return client.wait_for_status(
            instance_id, status, timeout=timeout, poll=WAIT_POLL_SECONDS, on_poll=show
        )


def _show_instance(instance: Instance, remote: Remote) -> None:
    if remote.json:
        render.print_json(instance)
    else:
        render.console.print(render.instance_detail(instance))


@app.command("list", epilog=EXIT_CODES_HELP)
def list_instances(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help="Only these statuses (repeat or comma-separate)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Exact name, or a prefix ending in *.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Page size.")] = 100,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow every page.")] = False,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """List managed instances, newest first."""
    remote = Remote(url, token, json_out)
    statuses = [part for value in status or [] for part in value.split(",") if part] or None
    with connect(remote) as client:
        if all_pages:
            items = list(
                client.iter_instances(status=statuses, name=name, region=region, page_size=limit)
            )
            page = InstancePage(instances=items, total=len(items))
        else:
            page = client.list_instances(status=statuses, name=name, region=region, limit=limit)
    if remote.json:
        render.print_json(page)
        return
    render.console.print(render.instance_table(page.instances, page.total))
    if page.next_cursor:
        render.err_console.print(
            f"showing {len(page.instances)} of {page.total}; use --all for every page"
        )


@app.command("get", epilog=EXIT_CODES_HELP)
def get_instance(
    instance_id: IdArgument = None,
    name: NameOption = None,
    secrets: Annotated[bool, typer.Option("--secrets", help="Include the SSH password.")] = False,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show one instance: status, price, connection details and health-check results."""
    remote = Remote(url, token, json_out)
    with connect(remote) as client:
        reference, by_name = target(instance_id, name)
        if by_name and not secrets:
            instance = client.get_instance_by_name(reference)
        else:
            instance = client.get_instance(
                resolve_id(client, instance_id, name), include_secrets=secrets
            )
    _show_instance(instance, remote)


def _env_pairs(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            usage_error(f"--env wants KEY=VALUE, got {value!r}")
        pairs[key] = item
    return pairs


def _auto_stop(idle_minutes: int | None, disabled: bool) -> dict[str, Any] | None:
    if disabled:
        return {"enabled": False}
    return None if idle_minutes is None else {"enabled": True, "idleMinutes": idle_minutes}


@app.command("create", epilog=EXIT_CODES_HELP)
def create_instance(
    name: Annotated[str, typer.Option("--name", "-n", help="Unique name ([A-Za-z0-9_-]).")],
    product_name: Annotated[
        str, typer.Option("--product-name", "-p", help='Product, e.g. "RTX 4090 24GB".')
    ],
    template_id: Annotated[
        str, typer.Option("--template-id", "-t", help="Template id, e.g. pytorch-jupyter.")
    ],
    gpu_num: Annotated[int, typer.Option("--gpus", min=1, max=8, help="GPUs.")] = 1,
    rootfs_size: Annotated[int | None, typer.Option("--rootfs-size", help="Disk in GB.")] = None,
    region: Annotated[str | None, typer.Option(help="Region to try first.")] = None,
    regions: Annotated[
        list[str] | None, typer.Option("--regions", help="Acceptable regions, in order.")
    ] = None,
    billing_mode: Annotated[BillingMode | None, typer.Option("--billing-mode")] = None,
    max_price: Annotated[
        float | None, typer.Option("--max-price", help="Skip offers above this USD/hour.")
    ] = None,
    webhook_url: Annotated[str | None, typer.Option("--webhook-url")] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE (repeat).")
    ] = None,
    idle_minutes: Annotated[
        int | None, typer.Option("--idle-minutes", help="Auto-stop after this idle time.")
    ] = None,
    no_auto_stop: Annotated[bool, typer.Option("--no-auto-stop", help="Never auto-stop.")] = False,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Show progress until ready, then how to connect.")
    ] = False,
    timeout: TimeoutOption = 600.0,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create an instance from a product name and a template (cheapest available offer)."""
    remote = Remote(url, token, json_out)
    region_list = [part for value in regions or [] for part in value.split(",") if part] or None
    with connect(remote) as client:
        created = client.create_instance(
            name,
            product_name,
            template_id,
            gpu_num=gpu_num,
            rootfs_size=rootfs_size,
            region=region,
            regions=region_list,
            billing_mode=billing_mode.value if billing_mode else None,
            webhook_url=webhook_url,
            max_price_per_hour=max_price,
            auto_stop=_auto_stop(idle_minutes, no_auto_stop),
            envs=_env_pairs(env),
            idempotency_key=idempotency_key,
        )
        if not remote.json:
            price = f" at ${created.price:.3f}/h" if created.price is not None else ""
            render.console.print(
                f"created [bold]{name}[/] ({created.instance_id}) in {created.region}{price}"
            )
        if not wait:
            if remote.json:
                render.print_json(created)
            return
        instance = wait_for(client, created.instance_id, "ready", timeout, remote)
    if remote.json:
        render.print_json(instance)
    else:
        render.console.print(f"[bold green]{name} is ready[/]")
        render.console.print(render.connection_panel(instance))


def _act(
    verb: Verb,
    instance_id: str | None,
    name: str | None,
    wait: bool,
    timeout: float,
    remote: Remote,
) -> None:
    reference, by_name = target(instance_id, name)
    with connect(remote) as client:
        result: ActionResult = _send(client, verb, reference, by_name)
        instance = result.instance
        if wait:
            instance = wait_for(client, result.instance_id, _WAIT_TARGET[verb], timeout, remote)
    if remote.json:
        render.print_json(instance if wait else result)
        return
    label = f"[bold]{instance.name}[/] ({instance.id})"
    render.console.print(f"{label}: ", render.status_text(instance.status), sep="")
    if wait and verb == "start":
        render.console.print(render.connection_panel(instance))


def _send(client: Client, verb: Verb, reference: str, by_name: bool) -> ActionResult:
    if verb == "start":
        return (
            client.start_instance_by_name(reference)
            if by_name
            else client.start_instance(reference)
        )
    if verb == "stop":
        return (
            client.stop_instance_by_name(reference) if by_name else client.stop_instance(reference)
        )
    return (
        client.delete_instance_by_name(reference) if by_name else client.delete_instance(reference)
    )


@app.command("start", epilog=EXIT_CODES_HELP)
def start_instance(
    instance_id: IdArgument = None,
    name: NameOption = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = 600.0,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Start a stopped or failed instance (--wait: until ready)."""
    _act("start", instance_id, name, wait, timeout, Remote(url, token, json_out))


@app.command("stop", epilog=EXIT_CODES_HELP)
def stop_instance(
    instance_id: IdArgument = None,
    name: NameOption = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = 600.0,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Stop an instance (a stopped one stays stopped; --wait: until stopped)."""
    _act("stop", instance_id, name, wait, timeout, Remote(url, token, json_out))


@app.command("delete", epilog=EXIT_CODES_HELP)
def delete_instance(
    instance_id: IdArgument = None,
    name: NameOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = 600.0,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Delete an instance on Novita (asks first on a terminal unless --yes; --wait: until gone)."""
    reference, _ = target(instance_id, name)
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Delete {reference}? This cannot be undone", abort=True)
    _act("delete", instance_id, name, wait, timeout, Remote(url, token, json_out))


@app.command("wait", epilog=EXIT_CODES_HELP)
def wait_instance(
    instance_id: IdArgument = None,
    name: NameOption = None,
    status: Annotated[
        WaitStatus, typer.Option("--for", help="The status to wait for.")
    ] = WaitStatus.READY,
    timeout: TimeoutOption = 600.0,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Wait until an instance reaches a status (exit 6 on timeout or if it fails)."""
    remote = Remote(url, token, json_out)
    with connect(remote) as client:
        reference = resolve_id(client, instance_id, name)
        instance = wait_for(client, reference, status.value, timeout, remote)
    if remote.json:
        render.print_json(instance)
    else:
        render.console.print(
            f"[bold]{instance.name}[/] ({instance.id}): ",
            render.status_text(instance.status),
            sep="",
        )


@app.command("heartbeat", epilog=EXIT_CODES_HELP)
def heartbeat(
    instance_id: IdArgument = None,
    name: NameOption = None,
    at: Annotated[
        str | None, typer.Option("--at", help="ISO-8601 time of last use [default: now].")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Mark an instance as used now, resetting its auto-stop idle clock."""
    remote = Remote(url, token, json_out)
    reference, by_name = target(instance_id, name)
    with connect(remote) as client:
        result = (
            client.heartbeat_by_name(reference, at) if by_name else client.heartbeat(reference, at)
        )
    if remote.json:
        render.print_json(result)
    else:
        when = result.last_used_at.isoformat() if result.last_used_at else "now"
        render.console.print(f"[bold]{result.instance.name}[/] last used {when}")


@app.command("events", epilog=EXIT_CODES_HELP)
def instance_events(
    instance_id: IdArgument = None,
    name: NameOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events as they happen.")
    ] = False,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="With --follow, stop after N new events.")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """An instance's event history, oldest first; --follow continues with new events.

    With --json: an array, or with --follow one JSON object per line.
    """
    remote = Remote(url, token, json_out)
    with connect(remote) as client:
        show_events(
            client, remote, resolve_id(client, instance_id, name), follow=follow, count=count
        )
