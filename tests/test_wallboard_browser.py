"""The wallboard in a real browser (Chromium, tests/browser.py), as a supervisor and a
wall screen see it: the page served by the real web part on 127.0.0.1, reading an
engine the test drives by hand (tests/harness.py), on a real loop.

Nothing here sleeps a fixed time or measures wall time: every wait is Playwright's
`expect` (bounded, `WAIT`) on what the page shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect

from acd.engine import commands as cmd
from acd.engine.states import AgentState
from acd.store.memory import MemoryStore
from acd.web.app import Web
from acd.web.sources import EngineSource, read_audit
from tests.browser import Chromium, launched
from tests.harness import Floor
from tests.test_scenario_wallboard import SITE
from tests.web import SUPERVISOR, TOKENS, VIEWER

A = AgentState
WAIT = 5_000
"""Milliseconds any one thing may take to show on the page."""
RECONNECT_WAIT = 10_000
"""A dropped stream: the browser retries every 2 s (the stream's `retry:`)."""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    with launched() as browser:
        yield browser


# ---------------------------------------------------------------- the server


@dataclass
class Board:
    """The wallboard server on a floor; it can be stopped and started again on the same
    port, with the same tokens (so a browser's session cookie still holds)."""

    floor: Floor
    store: MemoryStore
    port: int = 0
    web: Web | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        floor = self.floor

        def feed(event: object) -> None:
            floor.send(event)  # type: ignore[arg-type]

        web = Web(floor.site, TOKENS, EngineSource(floor.engine, lambda: floor.now, feed,
                                                   self.store))
        bound = asyncio.Event()
        task = asyncio.create_task(web.run("127.0.0.1", self.port, lambda _url: bound.set()))
        waiter = asyncio.create_task(bound.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            task.result()  # it could not bind: say why
            raise AssertionError("the wallboard server ended at start")
        self.web, self.task = web, task
        self.port = urlsplit(web.url).port or 0

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def published(self) -> str:
        """The id of the latest update the server sent."""
        assert self.web is not None
        return self.web.broadcaster.event_id


@contextlib.asynccontextmanager
async def serving(floor: Floor) -> AsyncIterator[Board]:
    board = Board(floor, MemoryStore(floor.site.site.name))
    await board.start()
    try:
        yield board
    finally:
        await board.stop()
        await board.store.close()


async def sign_in(page: Page, board: Board, token: str) -> None:
    """Open the page and sign in through its form (the page takes no token from the
    URL); return once the stream is live."""
    await page.goto(board.url)
    await page.get_by_test_id("login-token").fill(token)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "live",
                                                                timeout=WAIT)


def seconds(text: str) -> int:
    """A wait as the page shows it (m:ss or h:mm:ss) in seconds."""
    total = 0
    for part in text.strip().split(":"):
        total = total * 60 + int(part)
    return total


# ---------------------------------------------------------------- what the floor sees


def test_a_new_caller_shows_as_waiting(chromium: Chromium) -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        floor.call("c0")
        floor.answer("a1", "c0")  # the only agent is busy
        async with serving(floor) as board, chromium.page() as page:
            await sign_in(page, board, VIEWER)
            waiting = page.get_by_test_id("waiting-gen")
            await expect(waiting).to_have_text("0", timeout=WAIT)
            await expect(page.get_by_test_id("longest-gen")).to_have_text("—")

            floor.call("c1")  # nobody is free: the caller waits
            assert floor.engine.snapshot(floor.now).queues[0].waiting == 1

            await expect(waiting).to_have_text("1", timeout=WAIT)
            await expect(page.get_by_test_id("total-waiting")).to_have_text("1")
            await expect(page.get_by_test_id("longest-gen")).to_have_text(re.compile(r"^0:0\d$"))
            await expect(page.get_by_test_id("agents-gen")).to_have_text("0 / 1")

    chromium.run(main())


COUNT_UPDATES = """
window.__updates = 0;
const Native = window.EventSource;
window.EventSource = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("update", () => { window.__updates += 1; });
  }
};
"""
"""Counts the updates the page receives (the page's own EventSource, unchanged)."""


def test_waits_tick_on_the_page_between_updates(chromium: Chromium) -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.call("c1")
        floor.advance(30)  # the caller has waited half a minute
        async with serving(floor) as board, chromium.page() as page:
            await page.add_init_script(COUNT_UPDATES)
            await sign_in(page, board, VIEWER)
            longest = page.get_by_test_id("longest-gen")
            await expect(longest).to_have_text(re.compile(r"^0:[345]\d$"), timeout=WAIT)
            sent, received = board.published, await page.evaluate("window.__updates")
            assert received >= 1
            first = await longest.inner_text()

            # The engine is not touched: only the page's clock moves the figure.
            await expect(longest).not_to_have_text(first, timeout=WAIT)
            second = await longest.inner_text()

            assert seconds(second) > seconds(first) >= 30
            assert board.published == sent, "the server sent an update meanwhile"
            assert await page.evaluate("window.__updates") == received
            assert floor.engine.snapshot(floor.now).queues[0].waiting == 1

    chromium.run(main())


def test_a_supervisor_pauses_an_agent_from_the_page(chromium: Chromium) -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1", "h1")
        async with serving(floor) as board, chromium.page() as page:
            await sign_in(page, board, SUPERVISOR)
            await expect(page.get_by_test_id("role")).to_have_text("Supervisor")
            state = page.get_by_test_id("state-a1")
            await expect(state).to_have_attribute("data-state", "available", timeout=WAIT)

            await page.get_by_test_id("pause-a1").click()
            menu = page.get_by_test_id("menu-pause")
            await expect(menu).to_be_visible()
            async with page.expect_response(
                lambda r: r.url.endswith("/api/agents/a1/pause")
            ) as answer:
                await menu.get_by_test_id("pause-reason-training").click()
            response = await answer.value
            result = await response.json()
            assert response.request.post_data_json == {"reason": "training"}
            assert (response.status, result["ok"]) == (200, True), result

            agent = floor.engine.agents["a1"]
            assert (agent.state, agent.reason) == (A.PAUSED, "training")
            assert floor.agent_state("h1") is A.AVAILABLE  # only the one chosen

            toast = page.get_by_test_id("toast")
            await expect(toast).to_be_visible()
            await expect(toast).to_contain_text(result["message"])
            await expect(toast).to_have_attribute("data-ok", "true")
            await expect(menu).to_be_hidden()

            # The next update shows it: the chip, the reason, the buttons, the pool.
            await expect(state).to_have_attribute("data-state", "paused", timeout=WAIT)
            await expect(state).to_have_text("Paused")
            row = page.get_by_test_id("agent-a1")
            await expect(row.locator(".c-reason")).to_have_text("Training")
            await expect(page.get_by_test_id("unpause-a1")).to_be_visible()
            await expect(page.get_by_test_id("pause-a1")).to_be_hidden()
            await expect(page.get_by_test_id("pool-floor-paused")).to_have_text("1")

            (entry,) = await read_audit(board.store, 10)
            assert (entry.who, entry.role, entry.ok) == ("kim", "supervisor", True)

    chromium.run(main())


def test_a_supervisor_listens_in_on_an_agents_call_from_the_page(chromium: Chromium) -> None:
    """The agent's dialog offers listen / whisper / barge while the agent is on a call:
    the engine is asked to ring the supervisor's own phone into that call."""

    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        floor.call("c1")
        floor.answer("a1", "c1")
        async with serving(floor) as board, chromium.page() as page:
            await sign_in(page, board, SUPERVISOR)
            await expect(page.get_by_test_id("state-a1")).to_have_attribute(
                "data-state", "on_call", timeout=WAIT)
            await page.get_by_test_id("manage-a1").click()
            await page.get_by_test_id("dlg-supervise-endpoint").fill("PJSIP/supervisor1")
            async with page.expect_response(lambda r: r.url.endswith("/api/calls/c1/whisper")
                                            ) as answer:
                await page.get_by_test_id("dlg-whisper").click()
            response = await answer.value
            assert response.status == 200, await response.text()
            (asked,) = floor.commands(cmd.Supervise, "c1")
            assert (asked.agent_id, asked.endpoint, asked.mode) == (
                "a1", "PJSIP/supervisor1", "whisper")
            await expect(page.get_by_test_id("toast")).to_have_attribute("data-ok", "true")

    chromium.run(main())


ACTIONS = ("pause-", "unpause-", "logoff-", "manage-", "pin-stage-", "release-stage",
           "announce-start-", "announce-stop-", "announce-media")

FORCED_PAUSE = """async () => {
  const r = await fetch("/api/agents/a1/pause", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ reason: "break" }),
  });
  return { status: r.status, body: await r.json() };
}"""


def test_a_viewer_sees_no_actions_and_cannot_act(chromium: Chromium) -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        async with serving(floor) as board, chromium.page() as page:
            await sign_in(page, board, VIEWER)
            await expect(page.get_by_test_id("role")).to_have_text("Viewer")
            await expect(page.get_by_test_id("state-a1")).to_have_attribute(
                "data-state", "available", timeout=WAIT)
            await expect(page.get_by_test_id("surge-stage")).to_be_visible()
            for prefix in ACTIONS:
                assert await page.locator(f'[data-testid^="{prefix}"]').count() == 0, prefix
            assert await page.locator(".c-actions:visible").count() == 0

            handled = floor.engine.handled
            forced = await page.evaluate(FORCED_PAUSE)
            assert forced["status"] == 403, forced
            assert "viewer" in forced["body"]["error"]
            assert floor.engine.handled == handled  # the engine never heard of it
            assert floor.agent_state("a1") is A.AVAILABLE
            assert await read_audit(board.store, 10) == []
            await expect(page.get_by_test_id("state-a1")).to_have_attribute(
                "data-state", "available")

    chromium.run(main())


def test_the_stream_resumes_after_the_server_restarts(chromium: Chromium) -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        floor.call("c0")
        floor.answer("a1", "c0")
        async with serving(floor) as board, chromium.page() as page:
            await sign_in(page, board, VIEWER)
            conn = page.get_by_test_id("conn")
            waiting = page.get_by_test_id("waiting-gen")
            await expect(waiting).to_have_text("0", timeout=WAIT)
            await page.evaluate("window.__sameDocument = true")
            first, port = board.web, board.port

            await board.stop()
            await expect(conn).to_have_attribute("data-state", "reconnecting", timeout=WAIT)
            await expect(conn).to_contain_text("Reconnecting")
            await expect(page.locator("body")).to_have_class(re.compile(r"\bstale\b"))
            await expect(waiting).to_have_text("0")  # the last figures stay meanwhile

            await board.start()  # a new server run, on the same port, same tokens
            assert (board.port, board.web is not first) == (port, True)
            floor.call("c1")  # the floor changes: a caller waits

            await expect(waiting).to_have_text("1", timeout=RECONNECT_WAIT)
            await expect(conn).to_have_attribute("data-state", "live")
            await expect(page.locator("body")).not_to_have_class(re.compile(r"\bstale\b"))
            assert await page.evaluate("window.__sameDocument") is True  # no reload
            await expect(page.get_by_test_id("login-form")).to_be_hidden()

    chromium.run(main())


def test_a_wrong_token_shows_an_error_and_no_data(chromium: Chromium) -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        floor.call("c0")
        async with serving(floor) as board, chromium.page() as page:
            asked: list[str] = []
            page.on("request", lambda r: asked.append(urlsplit(r.url).path))
            await page.goto(board.url)
            await page.get_by_test_id("login-token").fill("not-the-token-0123456789")
            await page.get_by_test_id("login-submit").click()

            error = page.get_by_test_id("login-error")
            await expect(error).to_be_visible(timeout=WAIT)
            await expect(error).to_have_text("that token is not known here")
            await expect(page.get_by_test_id("login-form")).to_be_visible()
            await expect(page.get_by_test_id("login-token")).to_have_value("")
            assert await page.locator('[data-testid^="queue-"]').count() == 0
            await expect(page.get_by_test_id("agent-rows").locator("tr")).to_have_count(0)
            await expect(page.get_by_test_id("site")).to_have_text("ACD")  # not the site's
            assert "/api/stream" not in asked
            assert board.web is not None and board.web.broadcaster.clients == 0

    chromium.run(main())


def test_the_demo_link_logs_in_and_every_label_is_in_both_languages(chromium: Chromium) -> None:
    """`acd demo` prints the page's address with the supervisor's token in its #fragment:
    the page logs in with it and drops it from the address bar. Every label the page
    has in English it has in Korean too (a missing one would show its key)."""

    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        async with serving(floor) as board, chromium.page() as page:
            await page.goto(f"{board.url}#token={SUPERVISOR}")
            await expect(page.get_by_test_id("waiting-gen")).to_be_visible(timeout=WAIT)
            await expect(page.get_by_test_id("role")).to_have_text("Supervisor")
            assert "token" not in page.url
            missing = await page.evaluate(
                """async () => {
                    const { STRINGS } = await import("/i18n.js");
                    const en = Object.keys(STRINGS.en), ko = Object.keys(STRINGS.ko);
                    return [en.filter((k) => !ko.includes(k)), ko.filter((k) => !en.includes(k))];
                }"""
            )
            assert missing == [[], []]

    chromium.run(main())


def test_the_supervisor_view_on_a_1080p_screen(chromium: Chromium, tmp_path: Path) -> None:
    """The whole supervisor view at 1920x1080, with a busy floor; saved as a PNG (to
    ACD_SCREENSHOT_DIR when set) for a person to look at."""
    shots = Path(os.environ.get("ACD_SCREENSHOT_DIR") or tmp_path)

    async def main() -> Path:
        floor = Floor(SITE)
        floor.login("a1", "h1", "h2")  # h2 waits on standby: the home pool takes one
        floor.call("c1")
        floor.answer("a1", "c1")
        floor.call("c2")
        floor.answer("h1", "c2")
        floor.advance(5)
        floor.call("c3")
        floor.advance(20)
        floor.call("c4")
        floor.advance(10)
        async with serving(floor) as board, chromium.page(1920, 1080) as page:
            await sign_in(page, board, SUPERVISOR)
            await expect(page.get_by_test_id("waiting-gen")).to_have_text("2", timeout=WAIT)
            await expect(page.get_by_test_id("state-h2")).to_have_attribute("data-state",
                                                                            "paused")
            await expect(page.get_by_test_id("agent-rows").locator("tr")).to_have_count(3)
            await expect(page.get_by_test_id("pause-a1")).to_be_visible()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1920, f"the page scrolls sideways at 1920 px ({width} px)"
            shots.mkdir(parents=True, exist_ok=True)
            path = shots / "wallboard-supervisor-1920x1080.png"
            await page.screenshot(path=str(path))
            return path

    path = chromium.run(main())
    assert path.stat().st_size > 10_000
