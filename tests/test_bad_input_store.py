"""Corrupt and foreign data in Redis, as an operator meets it: records that do not
decode, records of another kind, keys of another Redis type, a journal entry cut short,
a snapshot of another format, a live snapshot of garbage, commands that are not
commands, a lease and an epoch no engine wrote, figures out of range.

Each case plants one bad thing on a real redis-server of its own (tests/redis_server.py)
beside a floor the engine wrote, then reads it the way a tool does: an engine restarting
(`recover`, as `acd serve --redis` does), `acd state`, a wallboard server (`StoreSource`,
as `acd wallboard`), the engine reading supervisor commands (`follow_commands`), an
engine taking the lease. What the operator must see (store/base.py, store/records.py):
the bad key named in one line (a problem reported, a line on stderr, a refused
command's answer), never a traceback, and the rest read as if nothing had happened (no
other call lost). Every case is bounded (`BOUND`): a hang fails it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
import redis

from acd.cli.main import main
from acd.cli.serve import take_lease
from acd.engine import Engine
from acd.engine import events as ev
from acd.engine.persist import export_state
from acd.engine.snapshot import Snapshot
from acd.engine.states import AgentState
from acd.store.base import Lease
from acd.store.records import JOURNAL_ENCODER, AgentView, CallView, JournalEntry, SnapshotRecord
from acd.store.redis import RedisStore
from acd.store.writer import Follower, recover
from acd.web import actions as act
from acd.web.actions import Result
from acd.web.commands import RESULT_DECODER, Command, follow_commands
from acd.web.sources import StoreSource, read_audit
from tests.harness import site_from_yaml
from tests.redis_server import RedisServer
from tests.stores import eventually, text
from tests.test_store_commands import KEYS, SITE, SITE_NAME, START, Floor

BOUND = 10.0
"""Seconds any one case's reading may take before it fails as a hang (a bound, not a
measure: each takes milliseconds)."""

CONFIG = site_from_yaml(SITE)
ENCODE = msgspec.msgpack.encode


async def bounded(what: Awaitable[Any]) -> Any:
    async with asyncio.timeout(BOUND):
        return await what


def only_line_naming(lines: Iterable[str], key: str) -> str:
    """The one line of `lines` that names `key` (fails if none or several)."""
    naming = [line for line in lines if key in line]
    assert len(naming) == 1, (key, list(lines))
    assert "\n" not in naming[0] and "Traceback" not in naming[0]
    return naming[0]


# --- restarting the engine: snapshot and journal ------------------------------------------


def engine_with_calls() -> Engine:
    """a1 on call c1; c2 and c3 waiting in gen; a2 at lunch."""
    engine = Engine(CONFIG, rng=random.Random(0), start=START)
    for event in (
        ev.AgentLogin(agent_id="a1"), ev.AgentLogin(agent_id="a2"),
        ev.AgentPause(agent_id="a2", reason="lunch"),
        ev.CallArrived(call_id="c1", caller="01011110001"),
        ev.AgentAnswered(agent_id="a1", call_id="c1"),
        ev.CallArrived(call_id="c2", caller="01011110002"),
        ev.CallArrived(call_id="c3", caller="01011110003"),
    ):
        engine.handle(event, START)
        engine.next_deadline()
    return engine


def snapshot_of(engine: Engine, epoch: int, last: str | None = None) -> bytes:
    return ENCODE(SnapshotRecord(epoch=epoch, last=last or f"{epoch}-0", taken_at=engine.now,
                                 state=msgspec.Raw(ENCODE(export_state(engine)))))


def arrival(epoch: int, call_id: str, at: float) -> bytes:
    return JOURNAL_ENCODER.encode(JournalEntry(epoch, START + at, ev.CallArrived(
        call_id=call_id, caller=f"0101111{call_id[-1]:0>4}")))


Plant = Callable[[RedisStore, Lease], Awaitable[None]]
"""Plants the bad thing in a store holding the floor (with the engine's lease)."""


async def stored_floor(store: RedisStore, middle: bytes | None) -> Lease:
    """The floor of `engine_with_calls` as a snapshot, then a journal after it: c4
    arrives, `middle` (the bad entry, id `<epoch>-2`, if any), c6 arrives."""
    lease = await store.acquire("engine-1", 30_000, need_snapshot=False)
    assert lease is not None
    e = lease.epoch
    await store.write(lease, [], [("set", KEYS.snapshot, snapshot_of(engine_with_calls(), e))])
    journal = [(f"{e}-1", arrival(e, "c4", 10))]
    if middle is not None:
        journal.append((f"{e}-2", middle))
    journal.append((f"{e}-3", arrival(e, "c6", 30)))
    await store.write(lease, journal, [])
    return lease


async def foreign_entry(store: RedisStore, lease: Lease) -> None:
    """A journal entry after the last as another program writes one: no `e` field."""
    await store.redis.xadd(KEYS.journal, {"x": "foreign"}, id=f"{lease.epoch}-4")


async def journal_is_a_hash(store: RedisStore, _lease: Lease) -> None:
    await store.redis.delete(KEYS.journal)
    await store.redis.hset(KEYS.journal, "foreign", "data")


def replaced_snapshot(data: bytes) -> Plant:
    async def plant(store: RedisStore, _lease: Lease) -> None:
        await store.redis.set(KEYS.snapshot, data)

    return plant


async def snapshot_is_a_list(store: RedisStore, _lease: Lease) -> None:
    await store.redis.delete(KEYS.snapshot)
    await store.redis.rpush(KEYS.snapshot, "foreign")


def _newer_format() -> bytes:
    state = msgspec.to_builtins(export_state(engine_with_calls()))
    state["version"] = 99
    return ENCODE(SnapshotRecord(epoch=1, last="1-0", taken_at=START,
                                 state=msgspec.Raw(ENCODE(state))))


def _other_configuration() -> bytes:
    other = site_from_yaml(SITE.replace("wrap_up_seconds: 5", "wrap_up_seconds: 7"))
    engine = Engine(other, rng=random.Random(0), start=START)
    return ENCODE(SnapshotRecord(epoch=1, last="1-0", taken_at=START,
                                 state=msgspec.Raw(ENCODE(export_state(engine)))))


@dataclass(frozen=True)
class Restart:
    """An engine restarting on a store where `plant` (or the bad journal entry `middle`)
    left foreign data: one problem names `key` (with `words`), and the engine carries on
    with `kept` (None: no usable snapshot, it starts with an empty floor and says so)."""

    name: str
    key: str
    words: str
    kept: frozenset[str] | None
    middle: bytes | None = None
    plant: Plant | None = None


ALL_BUT_THE_BAD_ONE = frozenset({"c1", "c2", "c3", "c4", "c6"})
FROM_THE_SNAPSHOT = frozenset({"c1", "c2", "c3"})

RESTARTS = [
    Restart("a journal entry cut short", f"{KEYS.journal} 1-2", "undecodable",
            ALL_BUT_THE_BAD_ONE, middle=arrival(1, "c5", 20)[:-4]),
    Restart("garbage MessagePack in a journal entry", f"{KEYS.journal} 1-2", "undecodable",
            ALL_BUT_THE_BAD_ONE, middle=b"\xc1\xc1 not msgpack"),
    Restart("a call record where a journal entry belongs", f"{KEYS.journal} 1-2", "undecodable",
            ALL_BUT_THE_BAD_ONE,
            middle=ENCODE(CallView(id="c5", caller="010", state="waiting", since=START))),
    Restart("an event of a kind this engine does not know", f"{KEYS.journal} 1-2",
            "CallTeleported", ALL_BUT_THE_BAD_ONE,
            middle=ENCODE([1, START + 20, {"type": "CallTeleported", "call_id": "c5"}])),
    Restart("a megabyte of garbage in a journal entry", f"{KEYS.journal} 1-2", "undecodable",
            ALL_BUT_THE_BAD_ONE, middle=b"\x93" + random.Random(5).randbytes(1 << 20)),
    Restart("a journal entry another program wrote (no `e` field)", f"{KEYS.journal} 1-4",
            "undecodable", frozenset({"c1", "c2", "c3", "c4", "c6"}), plant=foreign_entry),
    Restart("the journal key holding a hash", KEYS.journal, "WRONGTYPE", FROM_THE_SNAPSHOT,
            plant=journal_is_a_hash),
    Restart("a snapshot of garbage", KEYS.snapshot, "undecodable", None,
            plant=replaced_snapshot(b"\x82\xa5epoch\xc1")),
    Restart("a snapshot of a state format this engine does not read", KEYS.snapshot,
            "state format 99", None, plant=replaced_snapshot(_newer_format())),
    Restart("a snapshot made with another configuration", KEYS.snapshot,
            "another configuration", None, plant=replaced_snapshot(_other_configuration())),
    Restart("a snapshot whose last journal id is not an id", KEYS.snapshot,
            "'after lunch' is not a stream id", None,
            plant=replaced_snapshot(snapshot_of(engine_with_calls(), 1, last="after lunch"))),
    Restart("the snapshot key holding a list", KEYS.snapshot, "WRONGTYPE", None,
            plant=snapshot_is_a_list),
]


@pytest.mark.parametrize("case", RESTARTS, ids=lambda case: case.name)
def test_a_restarted_engine_names_the_bad_key_and_keeps_every_other_call(
    case: Restart, redis_server: RedisServer
) -> None:
    async def body() -> None:
        store = RedisStore(SITE_NAME, redis_server.url)
        try:
            lease = await stored_floor(store, case.middle)
            if case.plant is not None:
                await case.plant(store, lease)
            engine, _last, problems = recover(CONFIG, await bounded(store.load()),
                                              store.keys.prefix)
            line = only_line_naming(problems, case.key)
            assert case.words in line, line
            assert len(problems) == 1, problems
            if case.kept is None:
                assert engine is None  # acd serve: "recovery: <line>", then an empty floor
                return
            assert engine is not None
            assert set(engine.calls) == case.kept
            assert engine.agents["a1"].call_id == "c1"
            assert engine.agents["a2"].reason == "lunch"
        finally:
            await store.close()

    asyncio.run(body())


def test_a_standby_following_a_journal_key_of_another_type_waits_and_says_so(
    redis_server: RedisServer,
) -> None:
    """A standby (`acd serve --standby`) reads the journal every turn: a key of another
    type is reported once per kind and read as a quiet journal, never raised (it used to
    stop the standby with a traceback)."""

    async def body() -> None:
        store = RedisStore(SITE_NAME, redis_server.url)
        try:
            lease = await stored_floor(store, None)
            await journal_is_a_hash(store, lease)
            follower = Follower(CONFIG, store)
            for _ in range(3):
                assert await bounded(follower.catch_up(block_ms=50)) == 0
            assert follower.engine is not None and set(follower.engine.calls) == FROM_THE_SNAPSHOT
            line = only_line_naming(set(store.problems.latest), KEYS.journal)
            assert "WRONGTYPE" in line
        finally:
            await store.close()

    asyncio.run(body())


# --- acd state: the read model -----------------------------------------------------------


def populate(url: str) -> None:
    """The read model of a floor: a1 on c1; c2 then c3 waiting in gen; a2 at lunch."""

    async def body() -> None:
        store = RedisStore(SITE_NAME, url)
        try:
            f = Floor(store)
            await f.open("engine-1")
            f.send(ev.AgentLogin(agent_id="a1"), at=0)
            f.send(ev.AgentLogin(agent_id="a2"), at=0)
            f.send(ev.AgentPause(agent_id="a2", reason="lunch"), at=1)
            f.arrive("c1", at=100)
            f.send(ev.AgentAnswered(agent_id="a1", call_id="c1"), at=101)
            f.arrive("c2", at=200)
            f.arrive("c3", at=300)
            await bounded(f.settle())
        finally:
            await store.close()

    asyncio.run(body())


Poke = Callable[[redis.Redis], Any]


def wrong_type(key: str) -> Poke:
    def poke(r: redis.Redis) -> None:
        r.delete(key)
        r.rpush(key, "foreign")

    return poke


@dataclass(frozen=True)
class Seen:
    """`acd state` on a floor where `poke` left bad data: exit 0, one line on stderr
    naming `key` with `words`, and `still` printed (the rest of the floor)."""

    name: str
    poke: Poke
    key: str
    words: str
    still: tuple[str, ...]


VIEW_OF_C2 = CallView(id="c2", caller="01011110002", state="waiting", since=START + 200,
                      queue="gen")

SEEN = [
    Seen("a call record cut short",
         lambda r: r.set(KEYS.call("c2"), ENCODE(VIEW_OF_C2)[:-3]), KEYS.call("c2"),
         "undecodable record skipped", ("c3", "a1", "reason lunch")),
    Seen("an agent record holding a call record",
         lambda r: r.hset(KEYS.agents, "a2", ENCODE(VIEW_OF_C2)), f"{KEYS.agents} a2",
         "undecodable record skipped", ("c2", "c3", "a1")),
    Seen("an agent in state since infinity",
         lambda r: r.hset(KEYS.agents, "a2", ENCODE(AgentView(
             id="a2", pool="floor", state="paused", since=float("inf"), reason="lunch"))),
         f"{KEYS.agents} a2", "undecodable record skipped", ("c2", "c3", "a1")),
    Seen("a waiting call since NaN",
         lambda r: r.set(KEYS.call("c3"), ENCODE(msgspec.structs.replace(
             VIEW_OF_C2, id="c3", since=float("nan")))), KEYS.call("c3"),
         "undecodable record skipped", ("c2", "a1", "reason lunch")),
    Seen("a call record of a megabyte of garbage",
         lambda r: r.set(KEYS.call("c2"), b"\xdb" + random.Random(2).randbytes(1 << 20)),
         KEYS.call("c2"), "undecodable record skipped", ("c3", "a1")),
    Seen("the agents hash as a list", wrong_type(KEYS.agents), KEYS.agents, "WRONGTYPE",
         ("c2", "c3")),
    Seen("a queue's waiting set as a string",
         lambda r: (r.delete(KEYS.waiting("gen")), r.set(KEYS.waiting("gen"), "foreign")),
         KEYS.waiting("gen"), "WRONGTYPE", ("a1", "reason lunch")),
    Seen("a queue's figures of garbage",
         lambda r: r.hset(KEYS.figures, "queue:gen", b"\xc1"), f"{KEYS.figures} queue:gen",
         "undecodable record skipped", ("c2", "c3", "a1")),
    Seen("the status hash as a list", wrong_type(KEYS.status), KEYS.status, "WRONGTYPE",
         ("c2", "c3", "a1")),
    Seen("a waiting call's record as a list", wrong_type(KEYS.call("c2")), KEYS.call("c2"),
         "it holds a list, not a call record", ("c3", "a1", "reason lunch")),
]


@pytest.mark.parametrize("case", SEEN, ids=lambda case: case.name)
def test_acd_state_names_the_bad_key_in_one_line_and_prints_the_rest(
    case: Seen, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(redis_server.url)
    with redis.Redis.from_url(redis_server.url) as r:
        case.poke(r)
    assert main(["state", SITE_NAME, "--redis", redis_server.url]) == 0
    out, err = capsys.readouterr()
    line = only_line_naming(err.splitlines(), case.key)
    assert case.words in line, line
    for shown in case.still:
        assert shown in out, (shown, out)


@pytest.mark.parametrize("clock", ["inf", "nan", "half past nine"])
def test_acd_state_names_a_clock_that_is_not_a_time(
    clock: str, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(redis_server.url)
    with redis.Redis.from_url(redis_server.url) as r:
        r.hset(KEYS.status, "updated_at", clock)
    try:
        status = main(["state", SITE_NAME, "--redis", redis_server.url])
    except (OverflowError, ValueError) as e:
        pytest.fail(f"traceback: {e!r}")
    out, err = capsys.readouterr()
    assert status == 0
    assert "updated_at" in only_line_naming(err.splitlines(), KEYS.status)
    assert "c2" in out and "c3" in out


# --- a wallboard server beside the engine (acd wallboard) --------------------------------


async def wallboard_source(url: str) -> tuple[RedisStore, StoreSource, Snapshot]:
    store = RedisStore(SITE_NAME, url)
    source = StoreSource(store)
    first = await bounded(source.poll())
    assert first is not None, "the engine wrote no live snapshot"
    return store, source, first


@dataclass(frozen=True)
class Live:
    """What a wallboard server reads as the live floor, replaced by `data` (bytes) or by
    a key of another type (None)."""

    name: str
    data: Callable[[bytes], bytes] | None
    """The bad value made from the good one."""
    words: str


LIVES = [
    Live("a live snapshot of garbage", lambda _good: b"\xc1\xc1", "undecodable live snapshot"),
    Live("a live snapshot cut short", lambda good: good[:-7], "undecodable live snapshot"),
    Live("a call record where the live snapshot belongs", lambda _good: ENCODE(VIEW_OF_C2),
         "undecodable live snapshot"),
    Live("the live key holding a hash", None, "WRONGTYPE"),
]


@pytest.mark.parametrize("case", LIVES, ids=lambda case: case.name)
def test_a_wallboard_keeps_the_last_floor_and_names_a_live_snapshot_it_cannot_read(
    case: Live, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The pages keep the last good floor (the broadcaster publishes nothing new); the
    operator's log gets one WARNING line naming the key however often it is read; a good
    snapshot written again is read at once."""
    populate(redis_server.url)

    async def body() -> None:
        store, source, first = await wallboard_source(redis_server.url)
        try:
            good = await store.redis.get(KEYS.live)
            assert isinstance(good, bytes)
            if case.data is None:
                await store.redis.delete(KEYS.live)
                await store.redis.hset(KEYS.live, "foreign", "data")
            else:
                await store.redis.set(KEYS.live, case.data(good))
            for _ in range(3):  # a server reads it every second
                assert await bounded(source.poll()) is None
            line = only_line_naming(set(store.problems.latest), KEYS.live)
            assert case.words in line, line
            # The engine writes the next one: read at once.
            later = msgspec.structs.replace(first, at=first.at + 1)
            await store.redis.delete(KEYS.live)
            await store.redis.set(KEYS.live, ENCODE(later))
            assert await bounded(source.poll()) == later
        finally:
            await store.close()

    with caplog.at_level(logging.WARNING, logger="acd"):
        asyncio.run(body())
    logged = [r for r in caplog.records if KEYS.live in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is None


def test_a_wallboards_waiting_list_skips_a_bad_call_record_and_names_its_queue(
    redis_server: RedisServer,
) -> None:
    populate(redis_server.url)

    async def body() -> None:
        store, source, _ = await wallboard_source(redis_server.url)
        try:
            await store.redis.set(KEYS.call("c2"), b"\xc1 not a call")
            views = await bounded(source.waiting("gen", 10))
            assert [v.id for v in views] == ["c3"]
            line = only_line_naming(store.problems.latest, KEYS.waiting("gen"))
            assert "undecodable" in line
        finally:
            await store.close()

    asyncio.run(body())


def test_the_audit_trail_skips_a_foreign_record_and_names_it(redis_server: RedisServer) -> None:
    async def body() -> None:
        store = RedisStore(SITE_NAME, redis_server.url)
        try:
            foreign = text(await store.redis.xadd(KEYS.audit, {"a": b"\xc1 not ours"}))
            await store.audit(ENCODE({
                "at": 1.0, "engine_at": 1.0, "who": "kim", "role": "supervisor",
                "action": {"type": "Unpause", "agent": "a1"}, "ok": True, "status": 200,
                "message": "done",
            }))
            entries = await bounded(read_audit(store, 10))
            assert [e.who for e in entries] == ["kim"]
            only_line_naming(store.problems.latest, f"{KEYS.audit} {foreign}")
        finally:
            await store.close()

    asyncio.run(body())


# --- supervisor commands the engine reads from the stream --------------------------------


def command(action: dict[str, Any], role: str = "supervisor") -> bytes:
    return ENCODE({"who": "kim", "role": role, "action": action})


@dataclass(frozen=True)
class Order:
    """A command in the stream (`data`; None: an entry without the `c` field) that the
    engine must refuse with `status`, its answer naming `words`, applying nothing; the
    good command after it is applied."""

    name: str
    data: bytes | None
    status: int
    words: str


ORDERS = [
    Order("garbage bytes", b"\xc1\xc1 garbage", 422, "could not be read"),
    Order("a command without its action", ENCODE({"who": "kim", "role": "supervisor"}), 422,
          "missing required field `action`"),
    Order("an action of a kind nobody knows",
          command({"type": "FireEveryone", "agent": "a1"}), 422, "FireEveryone"),
    Order("an entry another program wrote (no `c` field)", None, 422, "could not be read"),
    Order("a command from a viewer", command({"type": "LogOff", "agent": "a1"}, "viewer"), 403,
          "not a supervisor"),
    Order("a pause reason of a megabyte",
          command({"type": "Pause", "agent": "a1", "reason": "x" * (1 << 20)}), 422,
          "$.action.reason"),
    Order("a skill level of 99",
          command({"type": "SetSkill", "agent": "a1", "skill": "gen", "level": 99}), 422,
          "$.action.level"),
    Order("an announcement that is not a media URI",
          command({"type": "Announce", "queue": "gen", "media": ["rm -rf /"]}), 422,
          "$.action.media"),
    Order("a supervisor's phone with a newline",
          command({"type": "Supervise", "call": "c1", "endpoint": "PJSIP/x\n", "mode": "listen"}),
          422, "$.action.endpoint"),
]


@pytest.mark.parametrize("case", ORDERS, ids=lambda case: case.name)
def test_a_bad_command_is_answered_with_a_refusal_and_the_next_one_is_applied(
    case: Order, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> None:
        store = RedisStore(SITE_NAME, redis_server.url)
        engine = Engine(CONFIG, rng=random.Random(0), start=START)
        now = START

        def feed(event: ev.Event) -> None:
            engine.handle(event, now)
            engine.next_deadline()

        for agent in ("a1", "a2"):
            feed(ev.AgentLogin(agent_id=agent))
        applied: list[str] = []
        reading = asyncio.create_task(follow_commands(store, engine, feed, lambda: now,
                                                      applied.append))
        try:
            before = msgspec.to_builtins(engine.snapshot(now))
            if case.data is None:
                bad = text(await store.redis.xadd(KEYS.commands, {"x": "foreign"}))
            else:
                bad = await store.submit(case.data)
            answer = await bounded(store.await_answer(bad, BOUND))
            assert answer is not None, "the engine did not answer"
            refused: Result = RESULT_DECODER.decode(answer)
            assert (refused.ok, refused.status) == (False, case.status), refused
            assert case.words in refused.message, refused
            assert msgspec.to_builtins(engine.snapshot(now)) == before
            good = await store.submit(ENCODE(Command(
                who="kim", role="supervisor", action=act.Pause(agent="a2", reason="training"))))
            answer = await bounded(store.await_answer(good, BOUND))
            assert answer is not None and RESULT_DECODER.decode(answer).ok
            assert engine.agents["a2"].state is AgentState.PAUSED
            assert applied == [bad, good]  # the refused one is done with too: never re-read
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            await store.close()

    with caplog.at_level(logging.WARNING, logger="acd"):
        asyncio.run(body())
    assert not [r for r in caplog.records if r.exc_info is not None]


# --- the lease and its epoch ---------------------------------------------------------------


async def lease_garbage(r: Any) -> None:
    await r.set(KEYS.lease, b"\xc1 not ours")


async def lease_without_ttl(r: Any) -> None:
    await r.set(KEYS.lease, "7:engine-9")  # an engine's form, but it never lapses


async def lease_a_hash(r: Any) -> None:
    await r.hset(KEYS.lease, "owner", "engine-9")


async def epoch_garbage(r: Any) -> None:
    await r.set(KEYS.epoch, "seven")


async def epoch_at_the_top(r: Any) -> None:
    await r.set(KEYS.epoch, str(2**63 - 1))


async def epoch_a_list(r: Any) -> None:
    await r.rpush(KEYS.epoch, "7")


@dataclass(frozen=True)
class Held:
    """A lease or epoch key holding what no engine wrote: no lease is taken, the key is
    left as it is, and one problem names it with `words`."""

    name: str
    plant: Callable[[Any], Awaitable[None]]
    key: str
    words: str


HELD = [
    Held("a lease that is not <epoch>:<owner>", lease_garbage, KEYS.lease, "never lapses"),
    Held("a lease of an engine's form without a time to live", lease_without_ttl, KEYS.lease,
         "time to live of -1 ms"),
    Held("the lease key holding a hash", lease_a_hash, KEYS.lease, "holds a hash"),
    Held("an epoch that is not an integer", epoch_garbage, KEYS.epoch, "not an integer"),
    Held("an epoch at the largest integer Redis holds", epoch_at_the_top, KEYS.epoch,
         "overflow"),
    Held("the epoch key holding a list", epoch_a_list, KEYS.epoch, "WRONGTYPE"),
]


async def dump(r: Any, key: str) -> tuple[bytes, int]:
    return await r.dump(key), await r.pttl(key)


@pytest.mark.parametrize("case", HELD, ids=lambda case: case.name)
def test_foreign_data_in_the_lease_or_epoch_is_named_and_never_taken_over(
    case: Held, redis_server: RedisServer
) -> None:
    async def body() -> None:
        store = RedisStore(SITE_NAME, redis_server.url)
        try:
            await case.plant(store.redis)
            planted = await dump(store.redis, case.key)
            for _ in range(3):  # acd serve asks every 0.1 s while it waits
                assert await bounded(store.acquire("engine-1", 1000, need_snapshot=False)) is None
            assert await dump(store.redis, case.key) == planted
            line = only_line_naming(set(store.problems.latest), case.key)
            assert case.words in line and "deleted" in line, line
        finally:
            await store.close()

    asyncio.run(body())


def test_acd_serve_waits_on_an_epoch_it_cannot_grow_naming_it_then_takes_the_lease(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """What an operator of `acd serve --redis` sees: one WARNING line naming the key (not
    a traceback, as before), and the engine starting once the key is set right."""

    async def body() -> None:
        store = RedisStore(SITE_NAME, redis_server.url)
        stop = asyncio.Event()
        args = argparse.Namespace(standby=False, lease_ms=1000)
        try:
            await epoch_garbage(store.redis)
            taking = asyncio.create_task(take_lease(CONFIG, store, "engine-1", args, stop))

            async def named() -> bool:
                assert not taking.done(), taking.result()
                return any(KEYS.epoch in p for p in store.problems.latest)

            await eventually(named, "the epoch is not named", BOUND)
            await store.redis.set(KEYS.epoch, "41")  # the operator sets it right
            taken = await bounded(taking)
            assert taken is not None and taken[0].epoch == 42
        finally:
            stop.set()
            await store.close()

    with caplog.at_level(logging.INFO):
        asyncio.run(body())
    assert not [r for r in caplog.records if r.exc_info is not None]
    assert len([r for r in caplog.records if KEYS.epoch in r.getMessage()]) == 1


def test_every_case_is_named_once_and_there_are_enough() -> None:
    tables: list[list[Any]] = [RESTARTS, SEEN, LIVES, ORDERS, HELD]
    names = [case.name for table in tables for case in table]
    assert len(names) == len(set(names))
    assert len(names) >= 15

