"""Routes of the browser face: the dashboard page, its static files, and the API docs pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

from novita_gpu.web.docs import router as docs_router
from novita_gpu.web.headers import WithHeaders, security_headers

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
async def dashboard() -> FileResponse:
    """The dashboard page; its scripts and styles come from ``/static``."""
    return FileResponse(STATIC_DIR / "index.html", headers=security_headers())


def install_web(app: FastAPI) -> None:
    """Serve the dashboard at ``/``, its files under ``/static`` and the docs pages.

    ``StaticFiles`` resolves every path inside ``static/`` and refuses anything outside it, so
    encoded ``..`` segments cannot reach other files. Build the app with ``docs_url=None`` and
    ``redoc_url=None`` so these docs pages replace FastAPI's CDN-based ones.
    """
    files = StaticFiles(directory=STATIC_DIR, follow_symlink=False)
    app.mount(STATIC_PREFIX, WithHeaders(files, security_headers()), name="static")
    app.include_router(router)
    app.include_router(docs_router)
