"""The ceiling of the read benchmark: bare Starlette on uvicorn serving constant bodies (the
same bytes as the real responses) from memory. Usage: python -m bench.ceiling_server PORT
(files one.json and page.json in BENCH_CONSTANT_DIR)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_BODIES = {p.stem: p.read_bytes() for p in Path(os.environ["BENCH_CONSTANT_DIR"]).glob("*.json")}


async def constant(request: Request) -> Response:
    return Response(_BODIES[request.path_params["kind"]], media_type="application/json")


async def live(_: Request) -> Response:
    return Response(b"{}", media_type="application/json")


app = Starlette(routes=[Route("/c/{kind}", constant), Route("/health/live", live)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
