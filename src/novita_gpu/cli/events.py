"""``novita-gpu events``: one instance's history, and the live stream of every event.

Human output is one line per event; ``--json`` prints an array for a history and one JSON
object per line (NDJSON) when following, so ``jq`` can consume the stream as it comes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from typing import Annotated

import typer

from novita_gpu.cli import render
from novita_gpu.cli.remote import (
    JsonOption,
    Remote,
    TokenOption,
    UrlOption,
    connect,
    usage_error,
)
from novita_gpu.client import Client, Event


def _print_event(event: Event, remote: Remote) -> None:
    if remote.json:
        typer.echo(json.dumps(render.as_json(event)))
    else:
        render.console.print(render.event_line(event), soft_wrap=True)


def follow_events(
    client: Client,
    remote: Remote,
    *,
    instance_id: str | None = None,
    since: str | None = None,
    count: int | None = None,
) -> None:
    """Print live events (only ``instance_id``'s if given) until ``count`` or Ctrl-C."""
    stream = client.stream_events(last_event_id=since, instance_id=instance_id)
    with contextlib.suppress(KeyboardInterrupt), contextlib.closing(stream):
        for event in itertools.islice(stream, count):
            _print_event(event, remote)


def show_events(
    client: Client, remote: Remote, instance_id: str, *, follow: bool, count: int | None
) -> None:
    """``instance_id``'s history, then (``follow``) its new events as they happen."""
    history = client.instance_events(instance_id)
    if remote.json and not follow:
        render.print_json(history)
        return
    for event in history:
        _print_event(event, remote)
    if follow:
        since = history[-1].id if history else None
        follow_events(client, remote, instance_id=instance_id, since=since, count=count)


def events(
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Stream events as they happen.")
    ] = False,
    instance_id: Annotated[
        str | None, typer.Option("--instance", help="Only this instance (id); shows its history.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Only this instance (name).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Stream the events after this event id, then new ones."),
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Stop after N streamed events.")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    json_out: JsonOption = False,
) -> None:
    """Print instance events as they happen (--follow), or one instance's history.

    --instance/--name shows that instance's history, which --follow then continues; --since
    replaces the history with the events after that id and implies --follow.
    With --json: one JSON object per line when following, else an array.
    """
    if not (follow or since) and instance_id is None and name is None:
        usage_error("nothing to show: add --follow for the live stream, or --instance/--name")
    if instance_id is not None and name is not None:
        usage_error("name the instance by --instance or by --name, not both")
    remote = Remote(url, token, json_out)
    with connect(remote) as client:
        reference = instance_id or (client.get_instance_by_name(name).id if name else None)
        if reference is None or since is not None:
            follow_events(client, remote, instance_id=reference, since=since, count=count)
        else:
            show_events(client, remote, reference, follow=follow, count=count)
