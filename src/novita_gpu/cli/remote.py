"""Plumbing for the commands that talk to a running server through the SDK: connection
options, exit codes, and SDK errors turned into one line plus a meaningful exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, NoReturn

import typer

from novita_gpu.client import (
    AuthenticationError,
    Client,
    ConflictError,
    NetworkError,
    NoCapacityError,
    NotFoundError,
    NovitaGPUError,
    RateLimitedError,
    SpendLimitError,
    UpstreamError,
    ValidationError,
    WaitError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_UNAVAILABLE = 5
EXIT_WAIT = 6

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 other error; 2 usage or configuration (bad arguments, rejected input,"
    " bad token); 3 not found; 4 conflict (name taken, wrong status, spend limit); 5 server,"
    " Novita or capacity unavailable (retry later); 6 wait timed out or the instance failed."
)

_EXIT_FOR: tuple[tuple[type[NovitaGPUError], int], ...] = (
    (WaitError, EXIT_WAIT),
    (ValidationError, EXIT_USAGE),
    (AuthenticationError, EXIT_USAGE),
    (NotFoundError, EXIT_NOT_FOUND),
    (ConflictError, EXIT_CONFLICT),
    (SpendLimitError, EXIT_CONFLICT),
    (UpstreamError, EXIT_UNAVAILABLE),
    (NetworkError, EXIT_UNAVAILABLE),
    (RateLimitedError, EXIT_UNAVAILABLE),
    (NoCapacityError, EXIT_UNAVAILABLE),
)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="NOVITA_GPU_URL",
        show_envvar=True,
        help="Server URL (default http://127.0.0.1:3000).",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="NOVITA_GPU_TOKEN", show_envvar=True, help="API token."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")
]


@dataclass(frozen=True)
class Remote:
    """Where the server is and how to print: the options every client command takes."""

    url: str | None = None
    token: str | None = None
    json: bool = False


def exit_code(error: NovitaGPUError) -> int:
    for cls, code in _EXIT_FOR:
        if isinstance(error, cls):
            return code
    return EXIT_ERROR


def fail(error: NovitaGPUError, as_json: bool = False) -> NoReturn:
    """Print ``error`` as one line on stderr (and as JSON on stdout with ``--json``); exit."""
    if as_json:
        envelope = {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "requestId": error.request_id,
        }
        typer.echo(json.dumps({"error": envelope}, indent=2))
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(exit_code(error))


def usage_error(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def connect(remote: Remote) -> Iterator[Client]:
    """A client for ``remote``; any SDK error inside the block ends the command via :func:`fail`."""
    try:
        with Client(remote.url, token=remote.token) as client:
            yield client
    except NovitaGPUError as error:
        fail(error, remote.json)
