"""What wallboard servers without an engine need from the store (store/base.py `Store`,
issue 10): supervisor commands and their replies, the last command applied across a
take-over, the audit trail, the live snapshot in the read model, and the waiting calls
of a queue. Against both stores: MemoryStore, and RedisStore on a real redis-server of
the test's own.

Sync tests running their body in a fresh loop (tests/stores.py `run`): the memory
store's on a virtual clock, where a quiet second or a lease tick costs no wall time and
times can be asserted exactly; Redis's on a real one, where a test waits for what it
can observe (a client blocked, a write, a lease tick), never for a guessed time.
Where the projection is involved, a real engine (built from a site configuration, as
tests/harness.py does) and its `StateWriter` write it, fed as the live controller
feeds them."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Coroutine
from typing import Any

import msgspec
import pytest

from acd.engine import Engine
from acd.engine import events as ev
from acd.engine.snapshot import Snapshot
from acd.store.base import (
    Lease,
    Op,
    Recovery,
    StoreError,
    Unavailable,
    command_age,
    loop_time,
)
from acd.store.keys import LAST_COMMAND, Keys
from acd.store.memory import MemoryStore
from acd.store.records import CALL_VIEW_DECODER, JOURNAL_DECODER, LIVE_DECODER
from acd.store.redis import RedisStore
from acd.store.writer import StateWriter, recover
from tests.harness import site_from_yaml
from tests.redis_server import RedisServer, free_port
from tests.stores import (
    AnyStore,
    Make,
    eventually,
    maker,
    on_virtual_clock,
    redis,
    run,
    ttl,
    until_blocked,
    until_lease_lapses,
)

SITE_NAME = "cmd"
KEYS = Keys(SITE_NAME)

SITE = """
site: {name: cmd, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 5}
  sales: {skill: gen, pools: [floor]}
ivr:
  entry: in
  by_dnis: {"1588": vip}
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
    vip: {kind: announce, prompt: [], next: {queue: gen, priority: 5}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: gen, level: 3}]}
"""

START = 1_780_000_000.0
"""The engine's clock at its start (epoch seconds)."""

EVENT = msgspec.msgpack.Decoder(ev.Event)
"""A supervisor command here is an engine event, MessagePack-encoded by its submitter
(what the bytes hold is the caller's business: the store carries them)."""

HANG = 10.0
"""Seconds after which a call that should already have returned is taken as hung: a
bound that fails a test instead of hanging it, not a measure of anything."""


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Make:
    return maker(request, SITE_NAME)


def announce(media: str) -> bytes:
    return msgspec.msgpack.encode(ev.SetAnnouncement(media=[media]))


Written = tuple[float, list[tuple[str, bytes]], list[Op]]
"""A write as `Seen` noted it: (loop time when it was done, journal entries, ops)."""


class Floor:
    """An engine and its StateWriter, driven as ari/controller.py drives them."""

    def __init__(self, store: AnyStore, engine: Engine | None = None) -> None:
        self.store = store
        self.engine = engine or Engine(site_from_yaml(SITE), rng=random.Random(0), start=START)
        self.now = self.engine.now
        self.tasks: list[asyncio.Task[None]] = []
        self.fenced: list[str] = []
        self.writes: list[Written] = []
        """Every write this floor's writer made: (loop time, journal, ops)."""
        self.writer: StateWriter

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task

    async def open(self, owner: str, ttl_ms: int = 30_000, *, need_snapshot: bool = False) -> None:
        lease = await self.store.acquire(owner, ttl_ms, need_snapshot=need_snapshot)
        assert lease is not None
        self.writer = StateWriter(
            Seen(self.store, self.writes), self.engine, lease, spawn=self._spawn,
            on_fenced=self.fenced.append,
        )
        await self.writer.start()

    def send(self, event: ev.Event, at: float | None = None) -> None:
        if at is not None:
            self.now = START + at
        self.engine.handle(event, self.now)
        self.writer.record(event, self.now)
        self.engine.next_deadline()

    def arrive(self, call_id: str, at: float, *, vip: bool = False) -> None:
        caller = f"0101111{call_id[-1]:0>4}"
        self.send(ev.CallArrived(call_id=call_id, caller=caller, dnis="1588" if vip else ""), at)

    def apply(self, command_id: str, command: bytes) -> None:
        """What the engine does with a supervisor command: handle it as an event,
        journal it, and record its id with that journal entry."""
        self.send(EVENT.decode(command))
        self.writer.command_done(command_id)

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

    def live_writes(self) -> list[float]:
        """When the writer wrote the live snapshot (loop time of each write)."""
        return [at for at, _j, ops in self.writes if any(op[1] == KEYS.live for op in ops)]


class Seen:
    """The store under test, seen through: every write is noted (when, what) before it
    goes on. The rest of the contract passes through as is."""

    def __init__(self, inner: AnyStore, writes: list[Written]) -> None:
        self.inner = inner
        self.keys = inner.keys
        self.name = inner.name
        self.writes = writes
        self.renewals = 0

    async def write(self, lease: Lease, journal: list[tuple[str, bytes]], ops: list[Op]) -> None:
        await self.inner.write(lease, journal, ops)
        self.writes.append((loop_time(), journal, ops))

    async def acquire(self, owner: str, ttl_ms: int, *, need_snapshot: bool) -> Lease | None:
        return await self.inner.acquire(owner, ttl_ms, need_snapshot=need_snapshot)

    async def renew(self, lease: Lease) -> None:
        await self.inner.renew(lease)
        self.renewals += 1

    async def release(self, lease: Lease) -> None:
        await self.inner.release(lease)

    async def load(self) -> Recovery:
        return await self.inner.load()

    async def tail(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        return await self.inner.tail(after, block_ms)

    async def close(self) -> None:
        await self.inner.close()


# --- supervisor commands and their replies ---------------------------------------------


def test_a_command_reaches_the_engine_and_its_answer_the_submitter(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        assert await store.last_command() == "0-0"  # nothing applied yet: read them all
        # The engine waits for commands; a wallboard server submits one.
        reading = asyncio.create_task(store.commands("0-0", 5000))
        await until_blocked(store, reading)
        first = await store.submit(announce("sound:first"))
        assert await asyncio.wait_for(reading, HANG) == [(first, announce("sound:first"))]

        # The submitter waits for the answer; the engine gives it.
        waiting = asyncio.create_task(store.await_answer(first, 5.0))
        await until_blocked(store, waiting)
        await store.answer(first, b"ok")
        assert await asyncio.wait_for(waiting, HANG) == b"ok"
        assert await store.await_answer(first, 0.05) is None  # a reply is taken once

        # Commands in submission order, after the id given; an answer that comes
        # before its submitter asks waits in its key until it expires.
        second = await store.submit(announce("sound:second"))
        third = await store.submit(announce("sound:third"))
        assert [i for i, _ in await store.commands("0-0", 0)] == [first, second, third]
        assert await store.commands(first, 0) == [
            (second, announce("sound:second")), (third, announce("sound:third"))
        ]
        assert await store.commands(third, 0) == []
        await store.answer(third, b"done", ttl_s=30)
        left = await ttl(store, KEYS.answer(third))
        assert left is not None and 0 < left <= 30
        assert await store.await_answer(third, 1.0) == b"done"

        # "$": only what is submitted from now on.
        assert await store.commands("$", 0) == []
        fresh = asyncio.create_task(store.commands("$", 5000))
        await until_blocked(store, fresh)
        fourth = await store.submit(b"\x01")
        assert await asyncio.wait_for(fresh, HANG) == [(fourth, b"\x01")]
        with pytest.raises(StoreError):
            await store.commands("not an id", 0)

    run(body, make_store)


def test_an_answer_expires_when_nobody_takes_it(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        command = await store.submit(b"x")
        await store.answer(command, b"late", ttl_s=1)

        async def gone() -> bool:
            if isinstance(store, MemoryStore):
                store._expire()  # it drops expired keys when touched, as Redis lazily does
                return KEYS.answer(command) not in store.lists
            return not await store.redis.exists(KEYS.answer(command))

        await eventually(gone, "the answer never expired")
        assert await store.await_answer(command, 0.01) is None

    run(body, make_store)


def test_a_submitter_times_out_with_none_when_nobody_answers(make_store: Make) -> None:
    """Longer than the Redis client's socket timeout (2 s): the store waits in slices,
    and returns None, never a timeout error."""

    async def body(store: AnyStore) -> None:
        loop = asyncio.get_running_loop()
        command = await store.submit(announce("sound:nobody"))
        started = loop.time()
        assert await store.await_answer(command, 2.1) is None
        waited = loop.time() - started
        if on_virtual_clock():
            assert waited == pytest.approx(2.1)
        else:
            assert waited >= 2.1 - 0.01

    run(body, make_store)


def test_a_quiet_command_stream_waits_then_returns_nothing(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        reading = asyncio.create_task(store.commands("0-0", 2100))
        await until_blocked(store, reading)
        assert await asyncio.wait_for(reading, HANG) == []
        if on_virtual_clock():  # exactly block_ms on the loop's clock, no polling
            assert loop.time() - started == pytest.approx(2.1)

    run(body, make_store)


def test_a_commands_age_comes_from_its_id_on_the_stores_clock(make_store: Make) -> None:
    assert command_age("1000-0", 4500) == 3.5
    assert command_age("5000-7", 4000) == 0.0  # never negative
    with pytest.raises(ValueError):
        command_age("nonsense", 1)

    async def body(store: AnyStore) -> None:
        command = await store.submit(b"x")
        assert 0.0 <= command_age(command, await store.clock_ms()) < 1.0
        if on_virtual_clock():
            await asyncio.sleep(90)  # a gap with no engine: virtual, no wall time
            assert command_age(command, await store.clock_ms()) == pytest.approx(90, abs=0.002)

    run(body, make_store)


def test_commands_applied_before_a_take_over_are_not_read_again(make_store: Make) -> None:
    """The old engine applied c1 and c2 (each id written with its journal entry), then
    died before c3; the new holder carries on after c2: it reads c3 and only c3."""

    async def body(store: AnyStore) -> None:
        loop = asyncio.get_running_loop()
        old = Floor(store)
        await old.open("old", ttl_ms=1000)
        keeping = loop.create_task(old.writer.keep())
        c1 = await store.submit(announce("sound:c1"))
        c2 = await store.submit(announce("sound:c2"))
        read = await store.commands(await store.last_command(), 1000)
        assert [i for i, _ in read] == [c1, c2]
        for command_id, command in read:
            old.apply(command_id, command)
        await old.settle()
        for command_id, _command in read:
            await store.answer(command_id, b"ok")
        assert await store.last_command() == c2
        # The id went in the same write as the journal entries of the events they became.
        marked = [
            (j, ops) for _, j, ops in old.writes if any(op[2:3] == (LAST_COMMAND,) for op in ops)
        ]
        assert len(marked) == 1
        journal, ops = marked[0]
        assert ("hset", KEYS.status, LAST_COMMAND, c2) in ops
        assert [JOURNAL_DECODER.decode(d).event for _, d in journal] == [
            ev.SetAnnouncement(media=["sound:c1"]), ev.SetAnnouncement(media=["sound:c2"])
        ]
        c3 = await store.submit(announce("sound:c3"))  # submitted; the old engine dies
        keeping.cancel()
        assert await store.await_answer(c1, 1.0) == b"ok"

        await until_lease_lapses(store)
        site = site_from_yaml(SITE)
        engine, _last, problems = recover(site, await store.load(), KEYS.prefix)
        assert problems == [] and engine is not None
        # c1 and c2 are in the state it carries on
        assert engine.conditions.announcement == ["sound:c2"]
        new = Floor(store, engine)
        await new.open("new", need_snapshot=True)
        after = await store.last_command()
        assert after == c2
        read = await store.commands(after, 1000)
        assert read == [(c3, announce("sound:c3"))]  # c3, never c1 or c2 again
        new.apply(*read[0])
        await store.answer(c3, b"ok")
        await new.settle()
        assert await store.last_command() == c3
        assert await store.commands(await store.last_command(), 0) == []
        assert new.engine.conditions.announcement == ["sound:c3"]
        assert await store.await_answer(c3, 1.0) == b"ok"

    run(body, make_store)


def test_the_last_command_survives_a_write_lost_to_an_outage(make_store: Make) -> None:
    """The write that carried a command's id failed (Redis away); the engine routes on
    from memory, and the rewrite when the store answers again carries the id with the
    snapshot that holds the command's effect."""

    async def body(store: AnyStore) -> None:
        floor = Floor(store)
        await floor.open("engine", ttl_ms=300)
        down = True
        real_write = store.write

        async def write(*args: Any) -> None:
            if down:
                raise Unavailable("cut off")
            await real_write(*args)

        store.write = write  # type: ignore[method-assign, assignment]
        command = await store.submit(announce("sound:during"))
        floor.apply(command, announce("sound:during"))
        await asyncio.sleep(0)
        await asyncio.gather(*[t for t in floor.tasks if not t.done()])
        assert floor.writer.stats.degraded
        assert await store.last_command() == "0-0"
        down = False
        keeping = asyncio.get_running_loop().create_task(floor.writer.keep())

        async def rewritten() -> bool:
            return floor.writer.stats.rewrites > 0

        await eventually(rewritten, "the writer never rewrote the store after the outage")
        keeping.cancel()
        assert await store.last_command() == command

    run(body, make_store)


def test_a_last_command_that_is_not_an_id_is_reported_and_read_from_the_start(
    make_store: Make,
) -> None:
    async def body(store: AnyStore) -> None:
        lease = await store.acquire("a", 5000, need_snapshot=False)
        assert lease is not None
        await store.write(lease, [], [("hset", KEYS.status, LAST_COMMAND, b"\xc1junk")])
        assert await store.last_command() == "0-0"
        assert any(KEYS.status in p for p in store.problems.latest)

    run(body, make_store)


# --- the audit trail ---------------------------------------------------------------------


def test_the_audit_tail_is_newest_first_and_capped(make_store: Make) -> None:
    cap = 100

    async def body(store: AnyStore) -> None:
        assert await store.audit_tail(10) == []
        store.audit_cap = cap
        ids = [await store.audit(f"entry {n}".encode()) for n in range(1000)]
        assert len(set(ids)) == 1000
        tail = await store.audit_tail(5)
        assert tail == [(ids[n], f"entry {n}".encode()) for n in (999, 998, 997, 996, 995)]
        kept = await store.audit_tail(10_000)
        # `MAXLEN ~ cap`: never fewer than the cap, and trimmed (Redis by whole nodes of
        # 100 entries, the memory store by a tenth of the cap).
        assert cap <= len(kept) <= 2 * cap
        assert kept == [(ids[n], f"entry {n}".encode()) for n in range(999, 999 - len(kept), -1)]
        assert await store.audit_tail(0) == []

    run(body, make_store)


# --- the read model: the live snapshot and the waiting calls ------------------------------


def test_the_live_snapshot_is_written_while_something_changes_at_most_once_a_second(
    make_store: Make,
) -> None:
    """`live_every` 1 s on the loop's clock: events every 0.25 s until 2.5 s write it
    at 0, 1 and 2 s (the memory store's virtual clock, exactly); the last events'
    snapshot waits for the first lease tick a second after the last write (3.05 s), and
    after that nothing is written until something changes. On Redis's real clock the
    events come at once; the same rules hold."""

    async def body(store: AnyStore) -> None:
        virtual = on_virtual_clock()
        loop = asyncio.get_running_loop()
        floor = Floor(store)
        t0 = loop.time()
        await floor.open("engine", ttl_ms=1500)  # a lease tick every 0.5 s
        seen = floor.writer.store
        assert isinstance(seen, Seen)
        # The full rewrite on taking the lease carries it.
        assert len(floor.live_writes()) == 1
        if virtual:
            assert floor.live_writes() == [t0]
        data = await store.live()
        assert data is not None and LIVE_DECODER.decode(data) == floor.engine.snapshot(START)

        # The lease tick, every 0.5 s from 0.05 (on the virtual clock, never at the
        # same time as an event).
        if virtual:
            await asyncio.sleep(0.05)
        keeping = loop.create_task(floor.writer.keep())
        floor.send(ev.AgentLogin(agent_id="a1"), at=0)
        for n in range(1, 11):
            if virtual:
                await asyncio.sleep(0.25 if n > 1 else 0.2)
            floor.arrive(f"c{n}", at=n * 0.25)
            await floor.settle()
        live = floor.live_writes()
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(live)), live
        if virtual:
            assert [round(t - t0, 3) for t in live] == [0.0, 1.0, 2.0]
            # The last events' snapshot waits for a tick that finds it due.
            assert LIVE_DECODER.decode(await store.live() or b"").at == START + 2.0

        async def caught_up() -> bool:
            data = await store.live()
            return data is not None and LIVE_DECODER.decode(data).at == START + 2.5

        await eventually(caught_up, "the live snapshot never caught up on the quiet floor")
        decoded = LIVE_DECODER.decode(await store.live() or b"")
        assert isinstance(decoded, Snapshot)
        assert decoded == floor.engine.snapshot(floor.engine.now)
        assert sum(q.waiting for q in decoded.queues) == 9  # a1 was offered c1
        if virtual:  # the tick 1 s after the last write (the ticks at 2.05, 2.55 were early)
            assert [round(t - t0, 3) for t in floor.live_writes()] == [0.0, 1.0, 2.0, 3.05]
        written = len(floor.live_writes())
        # Quiet: ticks come and go, the snapshot stays as it is.
        ticks = seen.renewals

        async def three_more_ticks() -> bool:
            return seen.renewals >= ticks + 3

        await eventually(three_more_ticks, "the lease was not renewed")
        assert len(floor.live_writes()) == written
        # Something changes (a supervisor's action changes no call or agent): written.
        before = floor.live_writes()[-1]
        if virtual:
            await asyncio.sleep(0.1)
        floor.send(ev.SetAnnouncement(media=["sound:storm"]))
        await floor.settle()

        async def announced() -> bool:
            data = await store.live()
            return data is not None and LIVE_DECODER.decode(data).announcement == ["sound:storm"]

        await eventually(announced, "a supervisor's action never reached the live snapshot")
        assert floor.live_writes()[-1] - before >= 1.0
        keeping.cancel()
        assert not floor.fenced and not floor.writer.stats.degraded

    run(body, make_store)


def test_waiting_calls_come_in_service_order(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        floor = Floor(store)
        await floor.open("engine")
        assert await store.waiting_calls("gen", 10) == []
        floor.arrive("c1", at=1)
        floor.arrive("c2", at=2)
        floor.arrive("c3", at=3, vip=True)  # priority 5: served first
        floor.arrive("c4", at=4)
        await floor.settle()
        views = [CALL_VIEW_DECODER.decode(v) for v in await store.waiting_calls("gen", 10)]
        assert [v.id for v in views] == ["c3", "c1", "c2", "c4"]
        assert [v.priority for v in views] == [5, 0, 0, 0]
        assert all(v.state == "waiting" and v.queue == "gen" for v in views)
        head = [CALL_VIEW_DECODER.decode(v).id for v in await store.waiting_calls("gen", 2)]
        assert head == ["c3", "c1"]
        assert await store.waiting_calls("gen", 0) == []
        assert await store.waiting_calls("sales", 10) == []
        assert await store.waiting_calls("no such queue", 10) == []
        # a1 logs in and is offered c3: it leaves the line.
        floor.send(ev.AgentLogin(agent_id="a1"), at=5)
        await floor.settle()
        left = [CALL_VIEW_DECODER.decode(v).id for v in await store.waiting_calls("gen", 10)]
        assert left == ["c1", "c2", "c4"]

    run(body, make_store)


# --- Redis only: foreign data, an unreachable server ------------------------------------


def test_keys_of_someone_elses_type_are_reported_never_raised_on_reads(
    redis_server: RedisServer,
) -> None:
    async def body(store: AnyStore) -> None:
        assert isinstance(store, RedisStore)
        r = store.redis
        await r.hset(KEYS.live, "x", "foreign")
        await r.set(KEYS.commands, "foreign")
        await r.set(KEYS.audit, "foreign")
        await r.set(KEYS.status, "foreign")
        await r.set(KEYS.answer("1-1"), "foreign")
        await r.hset(KEYS.waiting("sales"), "x", "foreign")
        await r.zadd(KEYS.waiting("gen"), {"c1": 1.0, "c2": 2.0, "c3": 3.0})
        await r.set(KEYS.call("c1"), b"view 1")
        await r.hset(KEYS.call("c2"), "x", "foreign")
        await r.set(KEYS.call("c3"), b"view 3")

        assert await store.live() is None
        assert await store.waiting_calls("gen", 10) == [b"view 1", b"view 3"]
        assert await store.waiting_calls("sales", 10) == []
        assert await store.commands("0-0", 0) == []
        assert await store.last_command() == "0-0"
        assert await store.await_answer("1-1", 0.5) is None
        await store.answer("1-1", b"ok")  # reported; the foreign key is left alone
        assert await r.get(KEYS.answer("1-1")) == b"foreign"
        assert await r.pttl(KEYS.answer("1-1")) == -1
        assert await store.audit_tail(5) == []
        problems = "\n".join(store.problems.latest)
        for key in (
            KEYS.live, KEYS.call("c2"), KEYS.waiting("sales"), KEYS.commands, KEYS.status,
            KEYS.answer("1-1"), KEYS.audit,
        ):
            assert key in problems, key
        # Writes say so: the caller (a wallboard server's handler) reports it.
        with pytest.raises(StoreError, match=KEYS.commands):
            await store.submit(b"x")
        with pytest.raises(StoreError, match=KEYS.audit):
            await store.audit(b"x")

    run(body, redis(SITE_NAME, redis_server.url))


def test_an_unreachable_redis_is_unavailable() -> None:
    port = free_port()  # nothing listens there

    async def body(store: AnyStore) -> None:
        calls: list[Coroutine[Any, Any, Any]] = [
            store.live(), store.waiting_calls("gen", 5), store.submit(b"x"),
            store.commands("0-0", 0), store.last_command(), store.clock_ms(),
            store.answer("1-1", b"ok"), store.await_answer("1-1", 0.1), store.audit(b"x"),
            store.audit_tail(5),
        ]
        for call in calls:
            with pytest.raises(Unavailable):
                await call

    run(body, redis(SITE_NAME, f"redis://127.0.0.1:{port}/0"))
