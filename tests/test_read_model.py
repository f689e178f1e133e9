"""The live read model (store/projection.py) as a wallboard reads it, without the engine:
an engine fed the way the live controller feeds it (`handle`, `record`,
`next_deadline`), a `StateWriter` writing once per loop turn, and the keys read back
directly, from the MemoryStore and from a real redis-server; then `acd state` on the
same Redis.

Sync tests running their body in a fresh loop (tests/stores.py `run`): the memory
store's on a virtual clock, where a quiet second or a lease tick costs no wall time;
Redis's on a real one, where a test waits for what it can read back, never for a
guessed time. A RedisStore is made inside the running loop."""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import time
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

import msgspec
import pytest
import redis

from acd.cli.main import main
from acd.engine import Engine
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.store.base import Unavailable
from acd.store.keys import Keys
from acd.store.memory import MemoryStore
from acd.store.records import AgentView, CallView, FiguresView
from acd.store.redis import RedisStore
from acd.store.writer import StateWriter
from tests.harness import site_from_yaml
from tests.redis_server import RedisServer
from tests.stores import (
    AnyStore,
    Make,
    eventually,
    get,
    hgetall,
    maker,
    on_virtual_clock,
    run,
    text,
    ttl,
)

T = TypeVar("T")

SITE_NAME = "rm"
KEYS = Keys(SITE_NAME)
ENDED_TTL = 120

SITE = """
site: {name: rm, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 5}
ivr:
  entry: in
  by_dnis: {"1588": vip}
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
    vip: {kind: announce, prompt: [], next: {queue: gen, priority: 5}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: a3, endpoint: PJSIP/a3, pool: floor, skills: [{skill: gen, level: 3}]}
"""

CALLERS = {"c1": "01011112222", "c2": "01033334444", "c3": "01055556666"}
"""c3 dials the VIP number (priority 5): it is served before c1 and c2."""

CALL = msgspec.msgpack.Decoder(CallView)
AGENT = msgspec.msgpack.Decoder(AgentView)
FIGURES = msgspec.msgpack.Decoder(FiguresView)


class Floor:
    """An engine and its StateWriter, driven as ari/controller.py drives them."""

    def __init__(self, store: AnyStore, *, start: float) -> None:
        self.store = store
        self.engine = Engine(site_from_yaml(SITE), rng=random.Random(0), start=start)
        self.start = start
        self.now = start
        self.tasks: list[asyncio.Task[None]] = []
        self.fenced: list[str] = []
        self.writer: StateWriter

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task

    async def open(self, ttl_ms: int = 30_000) -> None:
        lease = await self.store.acquire("engine-1", ttl_ms, need_snapshot=False)
        assert lease is not None
        self.writer = StateWriter(
            self.store, self.engine, lease, spawn=self._spawn,
            on_fenced=self.fenced.append, ended_ttl=ENDED_TTL,
        )
        await self.writer.start()

    def send(self, event: ev.Event, at: float | None = None) -> list[cmd.Command]:
        if at is not None:
            self.now = self.start + at
        out = self.engine.handle(event, self.now)
        self.writer.record(event, self.now)
        self.engine.next_deadline()
        return out

    def advance_to(self, at: float) -> None:
        """Fire the engine's timers up to `start + at`, as the controller's timer does."""
        target = self.start + at
        while (deadline := self.engine.next_deadline()) is not None and deadline <= target:
            self.now = max(self.now, deadline)
            self.send(ev.TimerFired())
        self.now = target

    async def settle(self) -> None:
        """Let the loop turn until everything recorded has been written."""
        for _ in range(100):
            await asyncio.sleep(0)
            pending = [t for t in self.tasks if not t.done()]
            if pending:
                await asyncio.gather(*pending)
            elif not self.engine.has_changes:
                break
        for t in self.tasks:
            t.result()  # a write that failed fails the test
        assert not self.writer.stats.degraded and not self.fenced

    def arrive(self, call_id: str, at: float) -> None:
        dnis = "1588" if call_id == "c3" else ""
        self.send(ev.CallArrived(call_id=call_id, caller=CALLERS[call_id], dnis=dnis), at)


# --- reading the store directly, the same way for both ---------------------------------


async def waiting(store: AnyStore, queue: str) -> list[str]:
    if isinstance(store, MemoryStore):
        return store.waiting(queue)
    raw = cast(list[bytes], await store.redis.zrange(KEYS.waiting(queue), 0, -1))
    return [text(m) for m in raw]


async def call_view(store: AnyStore, call_id: str) -> CallView | None:
    data = await get(store, KEYS.call(call_id))
    return None if data is None else CALL.decode(data)


async def agent(store: AnyStore, agent_id: str) -> AgentView:
    return AGENT.decode((await hgetall(store, KEYS.agents))[agent_id])


async def figures(store: AnyStore, field: str) -> dict[str, Any]:
    return FIGURES.decode((await hgetall(store, KEYS.figures))[field]).figures


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Make:
    return maker(request, SITE_NAME)


# --- what a wallboard sees ---------------------------------------------------------------


def test_waiting_calls_are_in_service_order_and_an_offered_call_leaves(
    make_store: Make,
) -> None:
    async def body(store: AnyStore) -> None:
        f = Floor(store, start=time.time() - 600)
        await f.open()
        f.arrive("c1", at=1)
        f.arrive("c2", at=2)
        f.arrive("c3", at=3)  # the VIP number: priority 5
        await f.settle()
        assert await waiting(store, "gen") == ["c3", "c1", "c2"]
        c3 = await call_view(store, "c3")
        assert c3 is not None
        assert (c3.caller, c3.queue, c3.priority, c3.state) == (
            "01055556666", "gen", 5, "waiting"
        )
        assert c3.since == f.start + 3 and not c3.ended
        assert await ttl(store, KEYS.call("c3")) is None  # a live call does not expire

        # a1 logs in and is offered the VIP caller at once; then answers.
        f.send(ev.AgentLogin(agent_id="a1"), at=10)
        await f.settle()
        assert await waiting(store, "gen") == ["c1", "c2"]
        a1 = await agent(store, "a1")
        assert (a1.state, a1.call, a1.since) == ("reserved", "c3", f.start + 10)
        f.send(ev.AgentAnswered(agent_id="a1", call_id="c3"), at=12)
        await f.settle()
        a1 = await agent(store, "a1")
        assert (a1.state, a1.call, a1.since) == ("on_call", "c3", f.start + 12)
        assert await waiting(store, "gen") == ["c1", "c2"]

        # The call ends: a1 wraps up; the call's view says ended and expires.
        f.send(ev.AgentHungUp(agent_id="a1", call_id="c3"), at=30)
        await f.settle()
        a1 = await agent(store, "a1")
        assert (a1.state, a1.since) == ("wrap_up", f.start + 30)
        ended = await call_view(store, "c3")
        assert ended is not None and ended.ended and ended.outcome == "answered"
        left = await ttl(store, KEYS.call("c3"))
        assert left is not None and 0 < left <= ENDED_TTL

        # Wrap-up over: a1 is offered the next caller in line (c1, the earlier arrival).
        f.advance_to(40)
        await f.settle()
        a1 = await agent(store, "a1")
        assert (a1.state, a1.call, a1.since) == ("reserved", "c1", f.start + 35)
        assert await waiting(store, "gen") == ["c2"]
        assert (await agent(store, "a2")).state == "logged_out"
        assert f.engine.metrics.queues["gen"].offered == 3

    run(body, make_store)


def test_status_has_the_epoch_owner_and_stage(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        f = Floor(store, start=time.time())
        await f.open()
        await f.settle()
        status = {k: v.decode() for k, v in (await hgetall(store, KEYS.status)).items()}
        assert status["epoch"] == str(f.writer.lease.epoch)
        assert status["owner"] == "engine-1"
        assert status["stage"] == "0"

    run(body, make_store)


def test_figures_match_the_engine_metrics(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        f = Floor(store, start=time.time() - 600)
        await f.open()
        f.writer.projection.figures_every = 0.0  # every write carries the figures
        f.send(ev.AgentLogin(agent_id="a1"), at=0)
        f.arrive("c1", at=1)
        f.arrive("c2", at=2)
        f.send(ev.AgentAnswered(agent_id="a1", call_id="c1"), at=5)
        f.send(ev.CallerHungUp(call_id="c2"), at=20)
        await f.settle()
        m = f.engine.metrics
        q = await figures(store, "queue:gen")
        assert q == m.queues["gen"].summary()
        assert (q["offered"], q["answered"], q["abandoned"]) == (2, 1, 1)
        assert await figures(store, "site") == m.total.summary()
        pool = await figures(store, "pool:floor")
        assert pool["answered"] == m.pools["floor"].answered == 1

    run(body, make_store)


def test_figures_catch_up_after_the_floor_goes_quiet(make_store: Make) -> None:
    """Figures are written at most every `figures_every` (0.5 s), so the last events'
    figures wait; on a quiet floor (no event, no write) the lease tick writes them."""

    async def body(store: AnyStore) -> None:
        f = Floor(store, start=time.time() - 600)
        # Writes the figures (all zero). Lease tick: 1 s, a third of the time to live,
        # which leaves a loaded machine 2 s to renew on Redis's real clock.
        await f.open(ttl_ms=3000)
        keeping = asyncio.get_running_loop().create_task(f.writer.keep())
        f.send(ev.AgentLogin(agent_id="a1"), at=0)
        f.arrive("c1", at=1)
        f.send(ev.AgentAnswered(agent_id="a1", call_id="c1"), at=5)
        await f.settle()
        if on_virtual_clock():
            # No time has passed on the virtual clock: the figures are not due yet, so
            # only the tick can bring them (on Redis's real clock they may already be).
            q = await figures(store, "queue:gen")
            assert (q["offered"], q["answered"]) == (0, 0)

        async def caught_up() -> bool:
            q = await figures(store, "queue:gen")
            return (q["offered"], q["answered"]) == (1, 1)

        await eventually(caught_up, "the figures never caught up with the engine")
        keeping.cancel()
        assert not f.fenced and not f.writer.stats.degraded

    run(body, make_store)


def test_a_call_that_ended_during_an_outage_still_expires(
    make_store: Make,
) -> None:
    async def body(store: AnyStore) -> None:
        f = Floor(store, start=time.time() - 600)
        await f.open(ttl_ms=300)
        down = False
        real_write = store.write

        async def write(*args: Any) -> None:
            if down:
                raise Unavailable("cut off")
            await real_write(*args)

        store.write = write  # type: ignore[method-assign, assignment]
        f.arrive("c1", at=1)
        await f.settle()
        assert await call_view(store, "c1") is not None
        down = True
        f.send(ev.CallerHungUp(call_id="c1"), at=10)
        await asyncio.sleep(0)
        await asyncio.gather(*[t for t in f.tasks if not t.done()])
        assert f.writer.stats.degraded
        down = False
        keeping = asyncio.get_running_loop().create_task(f.writer.keep())

        async def rewritten() -> bool:
            return f.writer.stats.rewrites > 0

        await eventually(rewritten, "the writer never rewrote the store after the outage")
        keeping.cancel()
        assert f.writer.stats.rewrites == 1
        assert await waiting(store, "gen") == []
        view = await call_view(store, "c1")
        left = await ttl(store, KEYS.call("c1"))
        assert view is None or (view.ended and left is not None and 0 < left <= ENDED_TTL)

    run(body, make_store)


def test_status_says_when_it_was_updated(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        f = Floor(store, start=time.time())
        await f.open()
        f.arrive("c1", at=1)
        await f.settle()
        assert "updated_at" in await hgetall(store, KEYS.status)

    run(body, make_store)


# --- acd state ---------------------------------------------------------------------------


def populate(url: str, start: float | None = None) -> dict[str, Any]:
    """A floor in Redis: c3 (VIP), c1, c2 waiting behind a1's call, a2 paused. Returns
    the lease's epoch, the queue's metrics and the engine's `start` (epoch seconds: c2
    arrived at `start + 200`, c3 at `start + 300`). By default the engine's clock is
    the wall clock (its last event, at `start + 300`, is now); another `start` is an
    engine running on a clock of its own (compressed time)."""

    async def body() -> dict[str, Any]:
        store = RedisStore(SITE_NAME, url)
        try:
            f = Floor(store, start=time.time() - 300 if start is None else start)
            await f.open()
            f.writer.projection.figures_every = 0.0
            f.send(ev.AgentLogin(agent_id="a1"), at=0)
            f.send(ev.AgentLogin(agent_id="a2"), at=0)
            f.send(ev.AgentPause(agent_id="a2", reason="lunch"), at=1)
            f.arrive("c1", at=100)  # a1 is offered c1 at once
            f.send(ev.AgentAnswered(agent_id="a1", call_id="c1"), at=101)
            f.arrive("c2", at=200)
            f.arrive("c3", at=300)
            await f.settle()
            return {
                "epoch": f.writer.lease.epoch,
                "metrics": f.engine.metrics.queues["gen"],
                "start": f.start,
            }
        finally:
            await store.close()

    return asyncio.run(body())


def seconds(shown: str) -> int:
    """`acd state`'s `1h02m03s` / `6m40s` / `45s` as seconds."""
    parsed = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+)s", shown)
    assert parsed is not None, shown
    h, m, s = (int(part or 0) for part in parsed.groups())
    return h * 3600 + m * 60 + s


def test_acd_state_lists_waiting_calls_in_order_with_masked_numbers(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    floor = populate(redis_server.url)
    assert main(["state", SITE_NAME, "--redis", redis_server.url]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.index("c3") < out.index("c2")
    assert "*******6666" in out and "*******4444" in out
    for number in CALLERS.values():
        assert number not in out
    assert "stage 0" in out and "owner engine-1" in out
    assert "paused (1):" in out and "reason lunch" in out
    assert "on_call (1):" in out and "call c1" in out
    assert "queue gen: offered 3, answered 1" in out

    before = time.time()
    assert main(["state", SITE_NAME, "--redis", redis_server.url, "--json"]) == 0
    after = time.time()
    data = json.loads(capsys.readouterr().out)
    line = data["queues"]["gen"]
    assert [c["call"] for c in line] == ["c3", "c2"]
    assert [c["position"] for c in line] == [1, 2]
    assert [c["caller"] for c in line] == ["*******6666", "*******4444"]
    assert line[0]["priority"] == 5
    # c2 has waited since it arrived (100 s before the floor was written) until the
    # moment `acd state` read the wall clock, somewhere between `before` and `after`.
    arrived = floor["start"] + 200
    assert int(before - arrived) <= seconds(line[1]["waiting"]) <= int(after - arrived)
    assert int(before - arrived) >= 100
    assert data["status"]["clock"]["measured_on"] == "wall"
    assert data["status"]["epoch"] >= 1 and data["status"]["stage"] == 0
    assert [a["id"] for a in data["agents"]["on_call"]] == ["a1"]
    assert data["agents"]["paused"][0]["reason"] == "lunch"
    assert [a["id"] for a in data["agents"]["logged_out"]] == ["a3"]
    assert data["figures"]["queue"]["gen"]["offered"] == 3
    assert data["figures"]["pool"]["floor"]["answered"] == 1


def test_acd_state_reports_a_corrupt_agent_and_prints_the_rest(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(redis_server.url)
    client = redis.Redis.from_url(redis_server.url)
    client.hset(KEYS.agents, "a2", b"\xc1 not msgpack")
    client.set(KEYS.call("c2"), b"\xc1")
    client.close()
    assert main(["state", SITE_NAME, "--redis", redis_server.url]) == 0
    out, err = capsys.readouterr()
    assert err.count(f"{KEYS.agents} a2: undecodable record skipped") == 1, err
    assert err.count(f"{KEYS.call('c2')}: undecodable record skipped") == 1, err
    assert "a1" in out and "a3" in out and "reason lunch" not in out
    assert out.index("c3") < out.index("c2")  # the line is still shown in order


def test_acd_state_in_compressed_time_measures_on_the_engines_clock(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README's demo: an engine whose clock is months away from the wall's
    # (`acd serve --speed 30 --start ...`). Measured on the wall, every duration would
    # read thousands of hours.
    start = time.time() - 4290 * 3600
    populate(redis_server.url, start=start)
    assert main(["state", SITE_NAME, "--redis", redis_server.url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"]["clock"]["measured_on"] == "engine"
    assert data["status"]["clock"]["now"] == pytest.approx(start + 300, abs=0.01)
    # c2 arrived at 200, the engine last wrote at 300 (c3's arrival): 100 s.
    assert [c["waiting"] for c in data["queues"]["gen"]] == ["0s", "1m40s"]
    assert [a["for"] for a in data["agents"]["paused"]] == ["4m59s"]
    assert main(["state", SITE_NAME, "--redis", redis_server.url]) == 0
    out = capsys.readouterr().out
    assert "on the engine's clock" in out and "compressed time" in out
    assert "waiting 1m40s" in out
    assert "4290h" not in out and "4289h" not in out


def test_acd_state_reports_a_key_of_the_wrong_type(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(redis_server.url)
    client = redis.Redis.from_url(redis_server.url)
    client.delete(KEYS.figures)
    client.set(KEYS.figures, b"someone else's")
    client.close()
    assert main(["state", SITE_NAME, "--redis", redis_server.url]) == 0
    out, err = capsys.readouterr()
    assert f"{KEYS.figures}: skipped" in err
    assert out.index("c3") < out.index("c2")


def test_acd_state_without_redis_exits_1_naming_the_option_not_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on `port` now.
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    assert main(["state", SITE_NAME, "--redis", url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "--redis" in err and f"127.0.0.1:{port}" in err
    assert "s3cret" not in err
