"""The dashboard in headless Chromium against a live stack (service + emulator on free ports).

Each test loads the page once and then only watches it: every change it checks arrives over
the event stream, never by a reload. One stack and one browser serve the module (each test
has its own browser context and instance names), which keeps the module fast.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Request, expect

from tests.support.browser import Problems, browser_page, chromium, needs_chromium
from tests.support.live import LiveStack, live_stack
from tests.support.proxy import tcp_proxy

pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

WAIT_MS = 20_000
XSS = "<img src=x onerror=alert(1)>"
STATS = "/api/instances/auto-stop/stats"


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=WAIT_MS)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveStack]:
    async with live_stack(tmp_path_factory.mktemp("dashboard"), preset="fast") as started:
        yield started


async def create(stack: LiveStack, name: str, **extra: Any) -> str:
    body = {"name": name, "productName": "RTX 4090 24GB", "templateId": "pytorch-jupyter", **extra}
    response = await stack.client.post("/api/instances", json=body)
    assert response.status_code == 201, response.text
    instance_id: str = response.json()["instanceId"]
    return instance_id


async def tolerate_missing_stats(
    stack: LiveStack, problems: Problems, base_url: str | None = None
) -> None:
    """Servers without the auto-stop stats route answer 404; the page then shows a dash."""
    if (await stack.client.get(STATS)).status_code == 404:
        problems.tolerated.add((base_url or stack.url) + STATS)


async def open_dashboard(page: Page, stack: LiveStack) -> None:
    await page.goto(stack.url + "/")
    await expect(page.locator("#stream-state")).to_have_text("live")


async def test_table_follows_instances_live_and_stops_with_confirmation(
    stack: LiveStack, browser: Browser
) -> None:
    async with browser_page(browser) as (page, problems):
        await tolerate_missing_stats(stack, problems)
        first = await create(stack, "dash-first")
        await stack.wait_status(first, "ready")
        await open_dashboard(page, stack)
        row = page.locator("tbody tr", has_text="dash-first")
        await expect(row).to_contain_text("ready")
        await expect(row.get_by_role("button", name="Start")).to_be_disabled()

        await create(stack, "dash-second")
        second = page.locator("tbody tr", has_text="dash-second")
        await expect(second).to_be_visible()
        await expect(second).to_contain_text("ready")

        await row.get_by_role("button", name="Stop").click()
        dialog = page.locator("dialog[open]")
        await expect(dialog).to_contain_text("dash-first")
        await dialog.get_by_role("button", name="Stop dash-first").click()
        await expect(row).to_contain_text(re.compile("stopping|stopped"))
        status = (await stack.client.get(f"/api/instances/{first}")).json()["status"]
        assert status in {"stopping", "stopped"}
        assert problems.messages == []


async def test_stream_resumes_from_the_last_event_after_a_drop(
    stack: LiveStack, browser: Browser
) -> None:
    port = stack.settings.port
    async with tcp_proxy(port) as proxy, browser_page(browser) as (page, problems):
        url = f"http://127.0.0.1:{proxy.port}"
        problems.tolerated.add(url + "/api/events")  # the cut stream
        await tolerate_missing_stats(stack, problems, url)
        streams: list[Request] = []
        page.on("request", lambda r: streams.append(r) if r.url.endswith("/api/events") else None)
        await page.goto(url + "/")
        await expect(page.locator("#stream-state")).to_have_text("live")
        await create(stack, "dash-before-drop")
        await expect(page.locator("tbody tr", has_text="dash-before-drop")).to_be_visible()

        proxy.drop_all()
        await create(stack, "dash-during-drop")
        await expect(page.locator("tbody tr", has_text="dash-during-drop")).to_be_visible()
        assert len(streams) >= 2
        assert (await streams[-1].all_headers()).get("last-event-id")
        assert problems.messages == []


async def test_detail_shows_connection_history_and_hidden_password(
    stack: LiveStack, browser: Browser
) -> None:
    async with browser_page(browser) as (page, problems):
        await tolerate_missing_stats(stack, problems)
        instance_id = await create(stack, "dash-detail")
        ready = await stack.wait_status(instance_id, "ready")
        await open_dashboard(page, stack)
        await page.locator("tbody tr", has_text="dash-detail").click()
        detail = page.locator("#detail")
        await expect(detail).to_contain_text("Connection details")
        await expect(detail).to_contain_text(ready["connectionDetails"]["ssh"])
        jupyter = detail.get_by_role("link", name="Open Jupyter")
        await expect(jupyter).to_have_attribute("href", ready["connectionDetails"]["jupyter"])
        await expect(detail).to_contain_text("instance.created")
        await expect(detail).to_contain_text("instance.ready")
        await expect(detail).to_contain_text("Readiness probes")

        secret = (
            await stack.client.get(f"/api/instances/{instance_id}?includeSecrets=true")
        ).json()
        password = secret["connectionDetails"]["sshPassword"]
        assert password not in await detail.inner_text()
        await detail.get_by_role("button", name="Show password").click()
        await expect(detail).to_contain_text(password)
        assert problems.messages == []


async def test_create_form_and_markup_in_errors_stays_text(
    stack: LiveStack, browser: Browser
) -> None:
    async with browser_page(browser) as (page, problems):
        await tolerate_missing_stats(stack, problems)
        await open_dashboard(page, stack)
        form = page.locator("#create-dialog")

        await page.get_by_role("button", name="New instance").click()
        await expect(form.locator("#create-offers")).to_contain_text("$")
        await form.get_by_label("Name").fill("dash-form")
        await form.get_by_label("Product").select_option("RTX 4090 24GB")
        await form.get_by_role("button", name="Create instance").click()
        await expect(form).to_be_hidden()
        await expect(page.locator("tbody tr", has_text="dash-form")).to_contain_text("ready")

        # The API's 404 answer is expected here; the browser logs it all the same.
        problems.tolerated.add(stack.url + "/api/instances")
        await page.get_by_role("button", name="New instance").click()
        await form.get_by_label("Name").fill("dash-markup")
        await form.get_by_label("Template").fill(XSS)
        await form.get_by_role("button", name="Create instance").click()
        await expect(form.locator("#create-error")).to_contain_text(
            f"TEMPLATE_NOT_FOUND: Template '{XSS}'"
        )
        assert await page.locator("img").count() == 0
        assert problems.messages == []


async def test_token_prompt_and_header_only_auth(tmp_path: Path, browser: Browser) -> None:
    token = "dash-browser-token"
    async with (
        live_stack(tmp_path, preset="instant", api_tokens=[token]) as stack,
        browser_page(browser, width=390, height=800) as (page, problems),
    ):
        stack.client.headers["Authorization"] = f"Bearer {token}"
        await tolerate_missing_stats(stack, problems)
        # The first calls answer 401: that is what makes the page ask for the token.
        problems.tolerated.add(stack.url + "/api/")
        await create(stack, "dash-token")
        requests: list[Request] = []
        page.on("request", lambda request: requests.append(request))
        await page.goto(stack.url + "/")
        prompt = page.locator("#token-dialog")
        await expect(prompt).to_be_visible()
        await prompt.get_by_label("Token").fill(token)
        await prompt.get_by_role("button", name="Use token").click()
        await expect(page.locator("tbody tr", has_text="dash-token")).to_be_visible()
        await expect(page.locator("#stream-state")).to_have_text("live")

        assert await page.evaluate("sessionStorage.getItem('novita-gpu.token')") == token
        assert await page.evaluate("localStorage.length") == 0
        assert all(token not in request.url for request in requests)
        streams = [r for r in requests if r.url.endswith("/api/events")]
        assert streams
        assert (await streams[-1].all_headers())["authorization"] == f"Bearer {token}"
        # Phone width: the table turns into cards, nothing wider than the screen.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert problems.messages == []


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info"), ("/redoc", "h1")])
async def test_api_docs_render_offline_without_problems(
    stack: LiveStack, browser: Browser, path: str, rendered: str
) -> None:
    async with browser_page(browser) as (page, problems):
        outside: list[str] = []
        page.on(
            "request",
            lambda request: (
                outside.append(request.url)
                if not request.url.startswith((stack.url, "data:", "blob:"))
                else None
            ),
        )
        await page.goto(stack.url + path)
        await expect(page.locator(rendered).first).to_contain_text("novita-gpu")
        assert outside == []
        assert problems.messages == []
