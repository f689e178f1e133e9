"""One producer, many pages: the wallboard's server-sent events.

`Broadcaster.run` polls the source at most once a `period` (1 s), and when it has a new
snapshot builds the `Update` and serialises it once, as the bytes of one SSE message.
Each page's handler (`Broadcaster.stream`) writes the latest message it has not sent
yet, then waits for the next one; a page that writes slowly simply skips to the latest
when it is ready again (latest wins), so it holds back neither the producer nor the
engine nor the other pages.

The producer also wakes the pages: in slices of `SLICE`, yielding to the loop between
slices, so a thousand pages' writes never hold the engine's loop in one block (routing
events get in between slices); and it sends the heartbeat to every page of a quiet
floor, so a page's handler waits on nothing but its own wake-up (no timer per page).

Event ids are `<run>.<seq>`: `run` marks this server run, so after a server restart a
browser's `Last-Event-ID` from the previous run never matches and it gets the latest
at once; a reconnect within a run that already has the latest gets nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import msgspec
from aiohttp import web

from acd.config.schema import SiteConfig
from acd.engine.snapshot import Snapshot
from acd.web.alerts import alerts, names
from acd.web.sources import Source
from acd.web.update import StageInfo, Update

HEARTBEAT = 15.0
"""Seconds between heartbeat events on a quiet stream: proxies keep it open, a page
knows it is alive, and a dead client is noticed."""
HEARTBEAT_MESSAGE = b"event: heartbeat\ndata: {}\n\n"
SLICE = 50
"""Pages woken per turn of the loop (benchmarks/wallboard.py: a page's write costs tens
of microseconds, so a slice holds the loop a few milliseconds at most)."""
RETRY_MS = 2000
"""How soon a browser reconnects after the stream drops (the SSE `retry:` field)."""


class Broadcaster:
    def __init__(self, site: SiteConfig, source: Source, period: float = 1.0) -> None:
        self.site = site
        self.source = source
        self.period = period
        self.run_id = f"{int(time.time() * 1000):x}"
        self.update: Update | None = None
        """The latest update (API reads serve it)."""
        self.json = b""
        """The latest update as JSON."""
        self.message = b""
        """The latest update as one SSE message."""
        self.event_id = ""
        self._seq = 0
        self._names = names(site)
        self._stages = [
            StageInfo(
                stage=s.stage,
                enter_at_calls_per_day=s.enter_at_calls_per_day,
                leave_below_calls_per_day=(
                    s.leave_below_calls_per_day if s.leave_below_calls_per_day is not None
                    else int(s.enter_at_calls_per_day * 0.9)  # the engine's default
                ),
            )
            for s in sorted(site.surge.stages, key=lambda s: s.stage)
        ]
        self._fresh = asyncio.Event()
        self._waiters: list[asyncio.Future[None]] = []
        """One future per page waiting for the next message; resolved by `_wake`."""
        self._beats = 0
        self.clients = 0
        self._stopping = False

    async def run(self, on_update: Callable[[Snapshot], None] | None = None) -> None:
        """Poll the source and publish, until cancelled. `on_update` sees every new
        snapshot (e.g. the metrics)."""
        loop = asyncio.get_running_loop()
        await self._wake()  # pages that came before the first poll
        heartbeat_at = loop.time() + HEARTBEAT
        while True:
            started = loop.time()
            snapshot = await self.source.poll()
            if snapshot is not None:
                self.publish(snapshot)
                if on_update is not None:
                    on_update(snapshot)
                heartbeat_at = started + HEARTBEAT
                await self._wake()
            elif started >= heartbeat_at:
                self._beats += 1
                heartbeat_at = started + HEARTBEAT
                await self._wake()
            await asyncio.sleep(max(0.0, self.period - (loop.time() - started)))

    async def _wake(self) -> None:
        """Wake every waiting page, `SLICE` at a time, yielding to the loop in between."""
        waiters, self._waiters = self._waiters, []
        for i, waiter in enumerate(waiters, start=1):
            if not waiter.done():
                waiter.set_result(None)
            if i % SLICE == 0:
                await asyncio.sleep(0)

    def publish(self, snapshot: Snapshot) -> None:
        self._seq += 1
        site = self.site
        update = Update(
            seq=self._seq,
            names=self._names,
            snapshot=snapshot,
            alerts=alerts(snapshot, site.wallboard),
            service_level_target=site.wallboard.service_level_target,
            thresholds=site.wallboard,
            stages=self._stages,
            surge_auto=site.surge.auto,
            time_zone=site.site.utc_offset,
            interval_seconds=site.site.interval_minutes * 60.0,
        )
        self.update = update
        self.event_id = f"{self.run_id}.{self._seq}"
        self.json = msgspec.json.encode(update)
        self.message = b"".join((
            b"id: ", self.event_id.encode(), b"\nevent: update\ndata: ", self.json, b"\n\n",
        ))
        fresh, self._fresh = self._fresh, asyncio.Event()
        fresh.set()

    async def next_update(self) -> Update:
        """The next update published from now on."""
        await self._fresh.wait()
        assert self.update is not None
        return self.update

    def stop(self) -> None:
        """Let every open stream end (server shutdown)."""
        self._stopping = True
        self._fresh.set()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters = []

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache, no-store",
                "X-Accel-Buffering": "no",  # nginx in front: do not buffer the stream
            }
        )
        await response.prepare(request)
        sent = request.headers.get("Last-Event-ID", "")
        beats = self._beats
        loop = asyncio.get_running_loop()
        self.clients += 1
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            while not self._stopping:
                if self.event_id and self.event_id != sent:
                    sent = self.event_id
                    await response.write(self.message)
                    continue  # a newer one may have come while writing
                if beats != self._beats:
                    beats = self._beats
                    await response.write(HEARTBEAT_MESSAGE)
                    continue
                waiter = loop.create_future()
                self._waiters.append(waiter)
                await waiter
        except (ConnectionResetError, ConnectionError):
            pass  # the page went away
        finally:
            self.clients -= 1
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response
