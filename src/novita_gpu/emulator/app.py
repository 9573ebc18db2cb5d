"""The emulator as one ASGI app.

Routes: the upstream API under ``/gpu-instance/openapi/v1/...`` and bare ``/v1/...`` (behind the
:class:`Gateway`), the admin API under ``/_emulator/`` and port endpoints under ``/_endpoints/``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Router

from novita_gpu.core.clock import Clock
from novita_gpu.emulator.admin import AdminAPI
from novita_gpu.emulator.api import UpstreamAPI, no_such_path
from novita_gpu.emulator.config import EmulatorConfig
from novita_gpu.emulator.endpoints import PortEndpoints
from novita_gpu.emulator.errors import EmulatorError, error_response
from novita_gpu.emulator.faults import API_PREFIXES
from novita_gpu.emulator.gateway import Gateway
from novita_gpu.emulator.world import World


def create_emulator_app(
    config: EmulatorConfig | None = None,
    *,
    clock: Clock | None = None,
    world: World | None = None,
) -> Starlette:
    """Build the emulator app; ``app.state.world`` is its :class:`World`.

    Pass either ``config``/``clock`` (a new world is made) or a ready ``world``.
    Raises ``ValueError`` when both a world and a config or clock are given.
    """
    if world is None:
        world = World(config, clock=clock)
    elif config is not None or clock is not None:
        raise ValueError("pass a world, or a config and clock to build one, not both")
    api = Gateway(Router(routes=UpstreamAPI(world).routes(), default=no_such_path), world)
    routes = [Mount(prefix, app=api) for prefix in API_PREFIXES]
    routes.append(Mount("/_emulator", routes=AdminAPI(world).routes()))
    routes.append(Mount("/_endpoints", routes=PortEndpoints(world).routes()))
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.world = world
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the upstream error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "REQUEST")
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return error_response(EmulatorError(status, reason, str(detail)))
