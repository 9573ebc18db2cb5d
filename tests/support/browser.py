"""Headless Chromium for dashboard tests: Debian's browser driven by Playwright.

Tests using it are skipped (with the reason) only when ``/usr/bin/chromium`` is missing; CI
installs it. Every page records what a person would count as broken: console errors (CSP
violations are reported there), uncaught exceptions and any ``alert()`` (an injected script).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not at /usr/bin/chromium (apt-get install -y chromium)",
)


@dataclass
class Problems:
    """What went wrong on a page. ``tolerated``: URL prefixes whose failed loads are expected
    (Chromium logs every 4xx answer to a fetch as a console error, wanted or not)."""

    messages: list[str] = field(default_factory=list)
    tolerated: set[str] = field(default_factory=set)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        failed_load = message.text.startswith("Failed to load resource")
        if failed_load and url.startswith(tuple(self.tolerated)):
            return
        self.messages.append(f"console: {message.text} ({url})")

    def page_error(self, error: Exception) -> None:
        self.messages.append(f"page error: {error}")

    async def dialog(self, dialog: Dialog) -> None:
        self.messages.append(f"unexpected {dialog.type}: {dialog.message}")
        await dialog.dismiss()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium, closed on exit."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def browser_page(
    browser: Browser, width: int = 1280, height: int = 900
) -> AsyncIterator[tuple[Page, Problems]]:
    """A page in a fresh browser context (own storage), and the problems recorded on it."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    try:
        page = await context.new_page()
        problems = Problems()
        page.on("console", problems.console)
        page.on("pageerror", problems.page_error)
        page.on("dialog", problems.dialog)
        yield page, problems
    finally:
        await context.close()
