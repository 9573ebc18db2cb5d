"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets vendored in ``static/vendor``.

FastAPI's page builders are used with our asset URLs, so the pages work with no network. Their
small inline start-up script is allowed by its SHA-256 hash in the page's policy; ReDoc inserts
its styles at run time, so the docs pages (not the dashboard) allow inline styles.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse

from novita_gpu.web.headers import security_headers

router = APIRouter(include_in_schema=False)

VENDOR = "/static/vendor"
FAVICON = "/static/favicon.svg"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def script_hashes(html: str) -> list[str]:
    """CSP source expressions allowing exactly the inline scripts of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_policy(html: str) -> str:
    scripts = " ".join(["'self'", *script_hashes(html)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _secured(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    return HTMLResponse(html, headers=security_headers(docs_policy(html)))


def _title(request: Request, suffix: str) -> str:
    return f"{request.app.title} - {suffix}"


@router.api_route("/docs", methods=["GET", "HEAD"])
async def swagger_ui(request: Request) -> HTMLResponse:
    """Interactive API docs (Swagger UI)."""
    return _secured(
        get_swagger_ui_html(
            openapi_url=request.app.openapi_url,
            title=_title(request, "Swagger UI"),
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            # No badge image from the public validator service.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.api_route("/redoc", methods=["GET", "HEAD"])
async def redoc(request: Request) -> HTMLResponse:
    """Reference API docs (ReDoc)."""
    return _secured(
        get_redoc_html(
            openapi_url=request.app.openapi_url,
            title=_title(request, "ReDoc"),
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )
    )
