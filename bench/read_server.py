"""The service as `serve` runs it (one uvicorn process), plus bare constant-body endpoints
that serve the ceiling for the read benchmark. Background jobs are off so that only the
measured requests load the process. Usage: python -m bench.read_server PORT"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from starlette.responses import Response

from novita_gpu.app import AppOptions, create_app
from novita_gpu.core.config import load_settings


def build() -> FastAPI:
    settings = load_settings(database_url=os.environ["BENCH_DATABASE_URL"], log_level="warning")
    app = create_app(settings, AppOptions(migrate=False, background=False))
    bodies = Path(os.environ["BENCH_CONSTANT_DIR"])

    async def constant(kind: str) -> Response:
        # Read once per process: the ceiling does no work per request beyond routing.
        body = _cache.get(kind)
        if body is None:
            body = _cache[kind] = (bodies / f"{kind}.json").read_bytes()
        return Response(body, media_type="application/json")

    app.add_api_route("/bench/constant/{kind}", constant, methods=["GET"])
    return app


_cache: dict[str, bytes] = {}

if __name__ == "__main__":
    uvicorn.run(build(), host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
