"""A wallboard server with no engine in its process (`acd wallboard`): it reads the floor
from a real Redis and its supervisors act through the store's command stream, which
the engine (here: its state writer and command follower, as `acd serve --redis` runs
them) applies, journals and answers.

Redis lives in real time, so these tests run on an ordinary loop and wait for what a
page would see (an update showing the change), never for a guessed time."""

from __future__ import annotations

import asyncio
import contextlib
import random

import aiohttp

from acd.engine import Engine
from acd.engine import events as ev
from acd.store.base import Lease
from acd.store.redis import RedisStore
from acd.store.writer import StateWriter
from acd.web.app import Web
from acd.web.commands import follow_commands
from acd.web.sources import StoreSource
from tests.harness import EPOCH, site_from_yaml
from tests.redis_server import RedisServer
from tests.test_scenario_wallboard import SITE
from tests.web import SUPERVISOR, TOKENS, VIEWER, Events

WITHIN = 20.0


async def _floor_beside_engine(url: str) -> None:
    site = site_from_yaml(SITE)
    engine_store = RedisStore(site.site.name, url)
    board_store = RedisStore(site.site.name, url)
    engine = Engine(site, rng=random.Random(0), start=EPOCH)
    now = [EPOCH]
    lease = await engine_store.acquire("engine-1", 3000, need_snapshot=False)
    assert isinstance(lease, Lease)
    async with asyncio.TaskGroup() as tg:
        writer = StateWriter(engine_store, engine, lease, spawn=tg.create_task,
                             on_fenced=lambda why: None, speed=4.0)
        await writer.start()

        def feed(event: ev.Event) -> None:  # the controller's feed: handle, then journal
            engine.handle(event, now[0])
            writer.record(event, now[0])

        tasks = [
            tg.create_task(writer.keep()),
            tg.create_task(follow_commands(engine_store, engine, feed, lambda: now[0],
                                           writer.command_done)),
        ]
        feed(ev.AgentLogin(agent_id="a1"))
        feed(ev.AgentLogin(agent_id="h1"))
        web = Web(site, TOKENS, StoreSource(board_store))
        bound = asyncio.Event()
        tasks.append(tg.create_task(web.run("127.0.0.1", 0, lambda _u: bound.set())))
        await bound.wait()
        base = web.url.rstrip("/")
        try:
            async with aiohttp.ClientSession(
                base, headers={"Authorization": f"Bearer {VIEWER}"}
            ) as wall, wall.get("/api/stream") as response:
                events = Events(response)
                _, update = await events.next()
                while {a.id: a.state for a in update.snapshot.agents}["a1"] != "available":
                    _, update = await events.next()
                assert update.snapshot.speed == 4.0  # the page ticks waits at the engine's speed

                async with wall.post("/api/agents/a1/pause", json={"reason": "break"}) as r:
                    assert r.status == 403  # a viewer: refused by the wallboard server

                async with aiohttp.ClientSession(
                    base, headers={"Authorization": f"Bearer {SUPERVISOR}"}
                ) as kim:
                    async with kim.post("/api/agents/a1/pause", json={"reason": "break"}) as r:
                        result = await r.json()
                        assert (r.status, result["ok"]) == (200, True), result
                    assert engine.agents["a1"].state == "paused"
                    async with kim.post("/api/agents/a1/unpause", json={}) as r:
                        assert r.status == 200
                    async with kim.post("/api/agents/a1/unpause", json={}) as r:
                        assert r.status == 409  # the engine's own refusal comes back
                    async with kim.post("/api/agents/ghost/pause", json={}) as r:
                        assert r.status == 404
                    async with kim.post("/api/agents/a1/pause", json={"reason": "meeting"}):
                        pass

                # The page sees what the engine did, from the read model alone.
                while {a.id: a.reason for a in update.snapshot.agents}["a1"] != "meeting":
                    _, update = await asyncio.wait_for(events.next(), WITHIN)
                async with aiohttp.ClientSession(
                    base, headers={"Authorization": f"Bearer {VIEWER}"}
                ) as wall2, wall2.get("/api/audit?limit=10") as r:
                    trail = await r.json()
                assert [(e["who"], e["action"]["type"], e["status"]) for e in trail] == [
                    ("kim", "Pause", 200), ("kim", "Pause", 404), ("kim", "Unpause", 409),
                    ("kim", "Unpause", 200), ("kim", "Pause", 200),
                ]
            # Applied commands are marked in the store: a successor starts after them.
            assert await engine_store.last_command() == writer.last_command != ""
        finally:
            for task in tasks:
                task.cancel()
    with contextlib.suppress(Exception):
        await writer.stop()
    await engine_store.close()
    await board_store.close()


def test_a_wallboard_server_beside_the_engine_reads_redis_and_acts_through_it(
    redis_server: RedisServer,
) -> None:
    asyncio.run(asyncio.wait_for(_floor_beside_engine(redis_server.url), 120))
