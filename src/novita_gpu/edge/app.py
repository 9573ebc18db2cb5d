"""A FastAPI application whose outermost layers wrap the framework's own middleware stack.

FastAPI puts its error, telemetry and body-size layers outside every middleware added with
``add_middleware``. The request edge and the fast read path go outside those instead: a
request answered there (a cached read, a 401, a 429) crosses no framework layer at all, and
everything else continues into the usual stack unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

Layer = Callable[[ASGIApp], ASGIApp]


class EdgeApp(FastAPI):
    """``outer_layers`` wrap the built stack, innermost first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outer_layers: list[Layer] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HTTP goes straight to the stack (what FastAPI does once its OpenTelemetry hooks
        are off, minus the check per request); everything else as FastAPI handles it."""
        if scope["type"] != "http" or self.middleware_stack is None:
            await super().__call__(scope, receive, send)
            return
        if self.root_path:
            scope["root_path"] = self.root_path
        scope["app"] = self
        await self.middleware_stack(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for wrap in self.outer_layers:
            app = wrap(app)
        return app
