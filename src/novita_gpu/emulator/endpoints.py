"""What an instance's exposed ports answer, as seen through Novita's proxy.

``/_endpoints/<clusterId>/<instanceId>/<port>[/...]`` is the URL of an ``http`` port mapping:

- unknown instance, another cluster (it migrated) or a port not mapped as http: 404 page;
- instance not ``running``, app still booting or made unhealthy: 502 "Bad Gateway" page;
- otherwise: 200 with a small HTML page.

``.../terminal`` (web terminal) is 200 while running, ``.../logs/{system,instance}`` return the
instance's status history as text.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from novita_gpu.emulator.models import Instance, Status
from novita_gpu.emulator.world import World

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NOT_FOUND_PAGE = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class PortEndpoints:
    """The endpoint routes, bound to one world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[BaseRoute]:
        base = "/{cluster_id}/{instance_id}"
        return [
            Route(f"{base}/logs/{{kind}}", self.logs, methods=["GET"]),
            Route(f"{base}/terminal", self.terminal, methods=["GET"]),
            Route(f"{base}/{{port:int}}", self.port, methods=_METHODS),
            Route(f"{base}/{{port:int}}/{{rest:path}}", self.port, methods=_METHODS),
        ]

    async def port(self, request: Request) -> Response:
        instance = self._instance(request)
        port: int = request.path_params["port"]
        if instance is None or not any(m.port == port and m.type == "http" for m in instance.ports):
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        if not self.world.app_is_up(instance):
            return HTMLResponse(BAD_GATEWAY_PAGE, status_code=502)
        return HTMLResponse(_app_page(instance, port))

    async def terminal(self, request: Request) -> Response:
        instance = self._instance(request)
        if instance is None:
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        if instance.status is not Status.RUNNING:
            return HTMLResponse(BAD_GATEWAY_PAGE, status_code=502)
        return HTMLResponse(f"<html><title>Web terminal</title><body>{instance.id}</body></html>")

    async def logs(self, request: Request) -> Response:
        instance = self._instance(request)
        if instance is None or request.path_params["kind"] not in ("system", "instance"):
            return PlainTextResponse("not found\n", status_code=404)
        return PlainTextResponse("".join(f"{line}\n" for line in instance.history))

    def _instance(self, request: Request) -> Instance | None:
        self.world.settle()
        instance = self.world.find_instance(request.path_params["instance_id"])
        if instance is None or instance.cluster_id != request.path_params["cluster_id"]:
            return None
        return instance


def _app_page(instance: Instance, port: int) -> str:
    return (
        f"<html><head><title>{instance.name or instance.id} :{port}</title></head>"
        f"<body><h1>Emulated app on port {port}</h1><p>instance {instance.id}</p></body></html>"
    )
