"""A wallboard server on a test floor: the real web part (aiohttp, over a real socket on
127.0.0.1) reading an engine that the test drives by hand (tests/harness.py), all on a
virtual loop clock (tests/vtime.py): a second of the broadcaster's period costs no wall
time.

    async with served(SITE) as board:
        board.floor.login("a1")             # the engine, driven as in any scenario test
        async with board.client(SUPERVISOR) as http: ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import msgspec

from acd.store.memory import MemoryStore
from acd.web.app import Web
from acd.web.auth import Tokens
from acd.web.sources import EngineSource
from acd.web.update import Update
from tests.harness import Floor

VIEWER = "viewer-token-0123456789"
SUPERVISOR = "supervisor-token-0123456789"
TOKENS = Tokens([("viewer", "wall", VIEWER), ("supervisor", "kim", SUPERVISOR)])


@dataclass
class Board:
    floor: Floor
    web: Web
    store: MemoryStore

    @property
    def url(self) -> str:
        return self.web.url.rstrip("/")

    def client(self, token: str | None = None) -> aiohttp.ClientSession:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # unsafe: keep cookies for an IP address host, as browsers do.
        return aiohttp.ClientSession(
            self.url, headers=headers, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )


@contextlib.asynccontextmanager
async def served(floor: Floor | str, tokens: Tokens = TOKENS) -> AsyncIterator[Board]:
    floor = floor if isinstance(floor, Floor) else Floor(floor)
    store = MemoryStore(floor.site.site.name)

    def feed(event: object) -> None:
        floor.send(event)  # type: ignore[arg-type]

    web = Web(floor.site, tokens, EngineSource(floor.engine, lambda: floor.now, feed, store))
    bound = asyncio.Event()
    task = asyncio.create_task(web.run("127.0.0.1", 0, lambda _url: bound.set()))
    await bound.wait()
    try:
        yield Board(floor, web, store)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.close()


class Events:
    """A page's event stream: `await next()` is the next update, with its id."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> tuple[str, Update]:
        """The next update (heartbeats skipped)."""
        while True:
            item = await self.item()
            if item is not None:
                return item

    async def item(self) -> tuple[str, Update] | None:
        """The next thing on the stream: an update, or None for a heartbeat."""
        event_id, data, heartbeat = "", b"", False
        while True:
            line = (await self.response.content.readline()).rstrip(b"\n")
            if not line:
                if self.response.content.at_eof():
                    raise EOFError("the stream ended")
                if heartbeat:
                    return None
                if data:
                    return event_id, msgspec.json.decode(data, type=Update)
                continue
            if line == b"event: heartbeat":
                heartbeat = True
            elif line.startswith(b"id: "):
                event_id = line[4:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]


@contextlib.asynccontextmanager
async def stream(
    http: aiohttp.ClientSession, last_event_id: str = ""
) -> AsyncIterator[Events]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with http.get("/api/stream", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "text/event-stream"
        yield Events(response)
