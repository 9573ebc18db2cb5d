"""``novita-gpu run``: one GPU job on an ephemeral instance, from a terminal or CI.

Creates the instance (with the server-side safety net), waits until it is ready, uploads,
runs the command over SSH with its output streamed, downloads, and deletes the instance,
also on Ctrl-C and SIGTERM. The exit status is the remote command's.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from novita_gpu.cli import render
from novita_gpu.cli.progress import JobProgress
from novita_gpu.cli.remote import TokenOption, UrlOption, usage_error
from novita_gpu.client import (
    Client,
    EphemeralInstance,
    Instance,
    NovitaGPUError,
    RemoteError,
)
from novita_gpu.client._ephemeral import TERMINATED_STATUS
from novita_gpu.client._ssh import with_env

#: Like ssh(1): the job could not be run, or its instance not cleaned up.
EXIT_RUN_FAILED = 255
EXIT_INTERRUPTED = 130

RUN_HELP = (
    "Exit status: the remote command's; 255 when the job could not run (or its instance"
    " could not be confirmed deleted); 130 after Ctrl-C, 143 after SIGTERM (the instance is"
    " deleted first)."
)
_DURATION = re.compile(r"(\d+)([hms]?)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "": 60}
Transfer = tuple[str, str]


def parse_duration(text: str) -> timedelta:
    """``90m``, ``1h30m``, ``2h``, ``45`` (minutes) or ``600s``; raises ``ValueError``."""
    compact = text.replace(" ", "").lower()
    if not compact or _DURATION.sub("", compact):
        raise ValueError(f"not a duration: {text!r} (try 90m, 1h30m or 2h)")
    total = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(compact))
    return timedelta(seconds=total)


def parse_transfer(spec: str, *, remote_first: bool) -> Transfer:
    """``SRC:DEST`` (or one path used on both sides). Remote paths must not contain ``:``;
    a local one may."""
    if ":" not in spec:
        return spec, spec
    src, _, dest = spec.partition(":") if remote_first else spec.rpartition(":")
    if not src or not dest:
        raise ValueError(f"wants SRC:DEST, got {spec!r}")
    return src, dest


def parse_env(specs: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``KEY=VALUE``, or ``KEY`` alone for this process's value of it; raises ``ValueError``."""
    env: dict[str, str] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep:
            if key not in environ:
                raise ValueError(f"--env {key}: not set here (give KEY=VALUE or export it)")
            value = environ[key]
        env[key] = value
    with_env("true", env)  # raises ValueError for a name the remote shell cannot export
    return env


def remote_command(words: list[str]) -> str:
    """One word is a shell command line as is; several are quoted and joined."""
    return words[0] if len(words) == 1 else shlex.join(words)


def run_job(
    command: Annotated[
        list[str], typer.Argument(help="The command to run remotely, after --.", show_default=False)
    ],
    product: Annotated[str, typer.Option("--product", "-p", help='E.g. "RTX 4090 24GB".')],
    template: Annotated[
        str,
        typer.Option("--template", "-t", envvar="NOVITA_GPU_TEMPLATE", help="Template id."),
    ] = "pytorch-jupyter",
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Instance name (default eph-<random>).")
    ] = None,
    gpus: Annotated[int, typer.Option("--gpus", min=1, max=8, help="GPUs.")] = 1,
    max_runtime: Annotated[
        str,
        typer.Option(
            "--max-runtime", help="Safety net: the server ends the instance after this (90m, 2h)."
        ),
    ] = "60m",
    upload: Annotated[
        list[str] | None,
        typer.Option("--upload", "-u", help="LOCAL:REMOTE to copy before the run (repeat)."),
    ] = None,
    download: Annotated[
        list[str] | None,
        typer.Option("--download", "-d", help="REMOTE:LOCAL to copy after the run (repeat)."),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            "-e",
            help="KEY=VALUE, or KEY to pass this environment's value, for the command (repeat;"
            " values are not printed).",
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the instance for debugging (not deleted).")
    ] = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Run a command on a fresh GPU instance, then delete it (whatever happens)."""
    try:
        runtime = parse_duration(max_runtime)
        uploads = [parse_transfer(spec, remote_first=False) for spec in upload or []]
        downloads = [parse_transfer(spec, remote_first=True) for spec in download or []]
        remote_env = parse_env(env or [], os.environ)
    except ValueError as exc:
        usage_error(str(exc))
    job = _Job(remote_command(command), uploads, downloads, keep)
    job.env = remote_env
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with Client(url, token=token) as client:
            box = client.ephemeral_instance(
                product,
                template,
                gpus=gpus,
                name=name,
                max_runtime=runtime,
                keep=keep,
                on_phase=job.progress.phase,
            )
            code = job.run(box)
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(TERMINATED_STATUS)


class _Job:
    """One ``run`` invocation: transfers, the command, the progress display."""

    def __init__(
        self, command: str, uploads: list[Transfer], downloads: list[Transfer], keep: bool
    ) -> None:
        self.command = command
        self.uploads = uploads
        self.downloads = downloads
        self.keep = keep
        self.env: dict[str, str] = {}
        self.box: EphemeralInstance | None = None
        self.progress = JobProgress(render.err_console, self._instance)

    def run(self, box: EphemeralInstance) -> int:
        """The exit status for the process, after cleanup."""
        self.box = box
        try:
            with box:
                status = self._work(box)
        except NovitaGPUError as exc:
            self.progress.summary("[red]failed[/]", ok=False)
            render.err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            return EXIT_RUN_FAILED
        except KeyboardInterrupt:
            self.progress.summary("[yellow]interrupted[/]", ok=False)
            return EXIT_INTERRUPTED
        except SystemExit as exc:
            self.progress.summary("[yellow]terminated[/]", ok=False)
            raise typer.Exit(exc.code if isinstance(exc.code, int) else 1) from None
        self.progress.summary(f"exit status {status}")
        if self.keep:
            self._print_kept(box)
        return status

    def _work(self, box: EphemeralInstance) -> int:
        for local, remote in self.uploads:
            self.progress.phase("uploading")
            box.put(local, remote)
        self.progress.phase("running")
        render.err_console.print(
            f"[dim]$ {escape(self.command)}[/]", highlight=False, soft_wrap=True
        )
        status = box.run(self.command, env=self.env)
        self.progress.finish()
        render.err_console.print(f"[dim]remote exit status {status}[/]", highlight=False)
        for remote, local in self.downloads:
            self.progress.phase("downloading")
            try:
                box.get(remote, local)
            except RemoteError as exc:
                if status == 0:
                    raise
                render.err_console.print(f"[yellow]warning:[/] {escape(str(exc))}", highlight=False)
        return status

    def _instance(self) -> Instance | None:
        try:
            return self.box.instance if self.box is not None else None
        except RuntimeError:
            return None

    def _print_kept(self, box: EphemeralInstance) -> None:
        instance = box.instance
        render.err_console.print(
            f"kept [bold]{instance.name}[/] ({instance.id}):"
            f" {escape(instance.connection_details.ssh or 'no ssh command')}\n"
            f"  password: novita-gpu instances get {instance.id} --secrets\n"
            f"  delete:   novita-gpu instances delete {instance.id}\n"
            f"  {_safety_net(instance, box.max_runtime_minutes, box.auto_delete_minutes)}",
            highlight=False,
        )


def _safety_net(instance: Instance, minutes: float, delete_after: float) -> str:
    started = instance.started_at or instance.created_at or datetime.now(UTC)
    stop_at = started + timedelta(minutes=minutes)
    return (
        f"the server stops it at {stop_at:%Y-%m-%d %H:%M} UTC (max runtime {minutes:g} min)"
        f" and deletes it {delete_after:g} min later"
    )
