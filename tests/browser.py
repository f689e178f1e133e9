"""A real browser for the wallboard tests: Debian's Chromium, driven by Playwright.

    with launched() as chromium:                 # one browser (a module fixture)
        chromium.run(main())                     # a test's coroutine, on the browser's loop

    async def main() -> None:
        async with serving(floor) as board, chromium.page() as page: ...

Playwright's async API, on one real asyncio loop (an `asyncio.Runner` that lives as
long as the browser): the wallboard server (aiohttp) runs as a task of that same loop
and the test drives the engine (`tests.harness.Floor`) between its awaits. So the
engine is only ever touched from one thread, as in `acd serve`; a change of the floor
and the broadcaster's next poll never overlap. The sync API would need the server in a
thread of its own and every `floor.call(...)` handed over to it. The loop is a real
one, not tests/vtime.py's virtual clock: the browser is another process and lives in
real time (its EventSource retries, the page's one-second tick).

No browser is downloaded: the executable is `ACD_CHROMIUM` or /usr/bin/chromium. When
it is missing the tests are skipped with one line naming the Debian package, unless
ACD_REQUIRE_CHROMIUM=1 (set by .ci/run, which installs it): then they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

T = TypeVar("T")

DEBIAN_PACKAGE = "chromium"
DEFAULT_PATH = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TEST_BOUND = 45.0
"""Wall seconds one test's coroutine may take before it is cancelled (a hang fails)."""


def executable() -> str | None:
    """The Chromium to drive (`ACD_CHROMIUM`, else /usr/bin/chromium), or None."""
    path = os.environ.get("ACD_CHROMIUM") or DEFAULT_PATH
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def require() -> str:
    """The Chromium executable; skip (or fail, with ACD_REQUIRE_CHROMIUM=1) without."""
    path = executable()
    if path is None:
        message = (
            f"Chromium is not installed at {os.environ.get('ACD_CHROMIUM') or DEFAULT_PATH} "
            f"(Debian package {DEBIAN_PACKAGE}: apt-get install {DEBIAN_PACKAGE})"
        )
        if os.environ.get("ACD_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


class Chromium:
    """One launched browser and the loop it lives on; pages come in fresh contexts
    (their own cookies and storage), so tests sharing the browser share nothing else."""

    def __init__(self, runner: asyncio.Runner, playwright: Playwright, browser: Browser) -> None:
        self.runner = runner
        self.playwright = playwright
        self.browser = browser

    def run(self, main: Coroutine[Any, Any, T], bound: float = TEST_BOUND) -> T:
        """Run a test's coroutine on the browser's loop, cancelled after `bound` s."""

        async def bounded() -> T:
            async with asyncio.timeout(bound):
                return await main

        return self.runner.run(bounded())

    @contextlib.asynccontextmanager
    async def page(self, width: int = 1600, height: int = 1000) -> AsyncIterator[Page]:
        """A new page in a new context (English, the site's zone does not matter: the
        page shows the site's own). Uncaught script errors on it fail the test."""
        context = await self.browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US"
        )
        errors: list[str] = []
        try:
            page = await context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page
        finally:
            await context.close()
        assert not errors, f"the page threw: {errors}"


@contextlib.contextmanager
def launched() -> Iterator[Chromium]:
    """Chromium started (headless) on a loop of its own; closed, with its loop, after."""
    path = require()
    runner = asyncio.Runner()
    try:
        playwright = runner.run(async_playwright().start())
        try:
            browser = runner.run(
                playwright.chromium.launch(executable_path=path, args=ARGS, headless=True)
            )
            try:
                yield Chromium(runner, playwright, browser)
            finally:
                runner.run(browser.close())
        finally:
            runner.run(playwright.stop())
    finally:
        runner.close()
