"""Run an app's lifespan in-process and talk to it over httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


def _with_state(app: FastAPI, state: Mapping[str, Any]) -> Any:
    """The app with the lifespan's state injected into every request (servers do this)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return wrapped


@asynccontextmanager
async def running_app(
    app: FastAPI, *, base_url: str = "http://testserver"
) -> AsyncIterator[tuple[httpx.AsyncClient, Mapping[str, Any]]]:
    """Start ``app``'s lifespan, yield a client for it and the lifespan state, then stop it."""
    async with app.router.lifespan_context(app) as state:
        lifespan_state: Mapping[str, Any] = state or {}
        transport = httpx.ASGITransport(app=_with_state(app, lifespan_state))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client, lifespan_state
