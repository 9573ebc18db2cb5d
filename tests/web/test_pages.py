"""The dashboard page, its static files and the docs pages: headers, containment, no CDN."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from novita_gpu.app import create_app
from novita_gpu.core.clock import ManualClock
from novita_gpu.web.docs import script_hashes
from tests.conftest import Api, app_options
from tests.support.asgi import running_app
from tests.support.settings import make_settings

ASSET_URL = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def assert_secured(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


class TestDashboardPage:
    async def test_page_is_html_under_a_strict_policy(self, api: Api) -> None:
        response = await api.client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert_secured(response)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "style-src 'self';" in csp
        assert "unsafe" not in csp

    async def test_page_has_no_inline_code_and_only_local_assets(self, api: Api) -> None:
        html = (await api.client.get("/")).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert "<style" not in html
        assert " style=" not in html
        for url in ASSET_URL.findall(html):
            assert url.startswith("/"), url
            assert (await api.client.get(url)).status_code == 200, url

    async def test_static_files_carry_the_headers(self, api: Api) -> None:
        response = await api.client.get("/static/js/main.js")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert_secured(response)

    @pytest.mark.parametrize(
        "path",
        [
            "/static/../../pyproject.toml",
            "/static/..%2f..%2f..%2fpyproject.toml",
            "/static/%2e%2e/web/routes.py",
            "/static/..%2froutes.py",
            "/%2e%2e/%2e%2e/etc/passwd",
        ],
    )
    async def test_no_file_outside_the_static_folder(self, api: Api, path: str) -> None:
        response = await api.client.get(path)
        assert response.status_code == 404
        assert "import" not in response.text
        assert "[project]" not in response.text


class TestDocsPages:
    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    async def test_docs_load_everything_from_the_package(self, api: Api, path: str) -> None:
        response = await api.client.get(path)
        assert response.status_code == 200
        assert_secured(response)
        assert "googleapis" not in response.text
        urls = ASSET_URL.findall(response.text)
        assert urls
        for url in urls:
            assert url.startswith("/static/"), url
            assert (await api.client.get(url)).status_code == 200, url

    async def test_swagger_start_up_script_is_allowed_by_its_hash_only(self, api: Api) -> None:
        response = await api.client.get("/docs")
        hashes = script_hashes(response.text)
        assert len(hashes) == 1
        script_src = response.headers["content-security-policy"].split("script-src")[1]
        assert hashes[0] in script_src.split(";")[0]
        assert "unsafe-inline" not in script_src.split(";")[0]

    async def test_vendored_assets_keep_their_licences(self, api: Api) -> None:
        for path in ("swagger-ui/LICENSE", "swagger-ui/NOTICE", "redoc/LICENSE"):
            assert (await api.client.get(f"/static/vendor/{path}")).status_code == 200


@pytest.fixture
async def with_tokens(
    database_url: str, clock: ManualClock, emulator: Starlette
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, api_tokens=["dash-token"])
    async with running_app(create_app(settings, app_options(clock, emulator))) as (client, _):
        yield client


class TestWithTokens:
    async def test_page_and_files_load_without_a_token(
        self, with_tokens: httpx.AsyncClient
    ) -> None:
        assert (await with_tokens.get("/")).status_code == 200
        assert (await with_tokens.get("/static/app.css")).status_code == 200

    async def test_the_api_behind_it_still_needs_one(self, with_tokens: httpx.AsyncClient) -> None:
        assert (await with_tokens.get("/api/instances")).status_code == 401
        headers = {"Authorization": "Bearer dash-token"}
        assert (await with_tokens.get("/api/instances", headers=headers)).status_code == 200
