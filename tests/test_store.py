"""The store contract (store/base.py), against both stores: MemoryStore, and RedisStore
on a real redis-server of the test's own (tests/redis_server.py).

Sync tests running their body in a fresh loop (tests/stores.py `run`): the memory
store's on a virtual clock, where its leases lapse and its keys expire without wall
time passing; Redis's on a real one, where a test waits for what it can see in Redis
(a key gone, a client blocked), never for a guessed time. A RedisStore is made inside
the running loop (its connections belong to the loop)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import SSLConnection
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from acd.engine.events import CallArrived, CallerHungUp
from acd.store.base import Fenced, Op, StoreError, Unavailable
from acd.store.keys import Keys
from acd.store.memory import MemoryStore
from acd.store.records import (
    JOURNAL_DECODER,
    JOURNAL_ENCODER,
    SNAPSHOT_DECODER,
    JournalEntry,
    decode_or_report,
)
from acd.store.redis import RedisStore, connect, redact
from tests.redis_server import RedisServer
from tests.stores import (
    AnyStore,
    Make,
    get,
    hgetall,
    maker,
    on_virtual_clock,
    redis,
    run,
    text,
    ttl,
    until_blocked,
    until_expired,
    until_lease_lapses,
    zrange,
)

T = TypeVar("T")

SITE = "t1"
KEYS = Keys(SITE)

TTL_MS = 1000
"""The lease's time to live where a test renews it in time: long enough that a loaded
machine cannot make a renewal every third of it late on Redis's real clock (on the
memory store's virtual clock it costs nothing)."""


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Make:
    """A factory of the store under test (the redis one on this test's own server)."""
    return maker(request, SITE)


def entry(epoch: int, n: int) -> tuple[str, bytes]:
    """A valid journal entry with stream id `<epoch>-<n>`."""
    record = JournalEntry(epoch=epoch, now=float(n), event=CallArrived(call_id=f"c{n}"))
    return f"{epoch}-{n}", JOURNAL_ENCODER.encode(record)


async def everything(store: AnyStore) -> dict[str, Any]:
    """Every key and the journal (not the time to live), to compare before and after."""
    if isinstance(store, MemoryStore):
        return {
            "strings": dict(store.strings),
            "hashes": {k: dict(v) for k, v in store.hashes.items() if v},
            "zsets": {k: dict(v) for k, v in store.zsets.items() if v},
            "expiring": sorted(store.expires),
            "journal": list(store.journal),
            "lease": store._lease,
        }
    r = store.redis
    out: dict[str, Any] = {}
    for key in sorted(text(k) for k in await r.keys("*")):
        kind = text(await r.type(key))
        if kind == "string":
            out[key] = await r.get(key)
        elif kind == "hash":
            out[key] = await r.hgetall(key)
        elif kind == "zset":
            out[key] = await r.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            out[key] = await r.xrange(key)
        else:
            out[key] = kind
        out[key + " expires"] = await r.pttl(key) >= 0
    return out


# --- the lease -----------------------------------------------------------------------


def test_acquire_epochs_grow_and_a_held_lease_is_not_given_twice(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        a = await store.acquire("a", 150, need_snapshot=False)
        assert a is not None
        assert (a.owner, a.epoch, a.ttl_ms, a.token) == ("a", 1, 150, "1:a")
        assert await store.acquire("b", 150, need_snapshot=False) is None
        assert await store.acquire("a", 150, need_snapshot=False) is None  # not even to a
        await store.release(a)
        b = await store.acquire("b", 150, need_snapshot=False)
        assert b is not None and b.epoch == 2
        await until_lease_lapses(store)  # b's lease lapses without a release
        c = await store.acquire("c", 150, need_snapshot=False)
        assert c is not None and c.epoch == 3
        await store.release(b)  # not b's any more: releasing it leaves c's alone
        assert await store.acquire("d", 150, need_snapshot=False) is None

    run(body, make_store)


def test_acquire_with_need_snapshot_waits_for_a_snapshot(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        assert await store.acquire("standby", 1000, need_snapshot=True) is None
        first = await store.acquire("first", 1000, need_snapshot=False)
        assert first is not None and first.epoch == 1  # the refusal used no epoch
        await store.write(first, [], [("set", store.keys.snapshot, b"state")])
        await store.release(first)
        standby = await store.acquire("standby", 1000, need_snapshot=True)
        assert standby is not None and standby.epoch == 2

    run(body, make_store)


def test_renew_extends_and_a_lapsed_lease_is_fenced(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        loop = asyncio.get_running_loop()
        a = await store.acquire("a", TTL_MS, need_snapshot=False)
        assert a is not None
        taken = loop.time()
        await store.write(a, [entry(1, 1)], [("set", store.keys.call("c1"), b"v1")])
        renewals = 0
        # Renewed every third of its time to live (as StateWriter.keep does), the lease
        # is kept past its time to live.
        while loop.time() - taken <= TTL_MS / 1000.0:
            await asyncio.sleep(TTL_MS / 3000.0)  # time that must pass: the lease ages
            before = a.renewed_at
            await store.renew(a)
            renewals += 1
            assert a.renewed_at > before
            assert a.fresh()
        assert renewals >= 3
        assert await store.acquire("b", TTL_MS, need_snapshot=False) is None
        await store.write(a, [entry(1, 2)], [])

        await until_lease_lapses(store)  # a is paused past its time to live; b takes over
        b = await store.acquire("b", TTL_MS, need_snapshot=False)
        assert b is not None and b.epoch == 2
        held = await everything(store)
        with pytest.raises(Fenced):
            await store.renew(a)
        with pytest.raises(Fenced):
            await store.write(
                a,
                [entry(1, 3)],
                [
                    ("set", store.keys.call("c1"), b"overwritten"),
                    ("set", store.keys.snapshot, b"stale"),
                    ("hset", store.keys.agents, "a1", b"x"),
                    ("del", store.keys.call("c1")),
                    ("trim", store.keys.journal, "9-0"),
                ],
            )
        assert await everything(store) == held
        recovery = await store.load()
        assert [i for i, _ in recovery.journal] == ["1-1", "1-2"]
        assert recovery.snapshot is None
        assert await get(store, store.keys.call("c1")) == b"v1"
        await store.renew(b)  # b's lease is untouched by all that
        await store.write(b, [entry(2, 1)], [])

    run(body, make_store)


def test_renew_and_write_after_release_are_fenced(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        a = await store.acquire("a", 5000, need_snapshot=False)
        assert a is not None
        await store.release(a)
        with pytest.raises(Fenced):
            await store.renew(a)
        with pytest.raises(Fenced):
            await store.write(a, [entry(1, 1)], [])
        assert (await store.load()).journal == []

    run(body, make_store)


# --- writes and reads ----------------------------------------------------------------


def test_write_appends_the_journal_and_applies_every_op(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        k = store.keys
        lease = await store.acquire("a", 5000, need_snapshot=False)
        assert lease is not None
        big = float(-5 * (1 << 40) + 123_456_789)  # a projection score, exact in a double
        ops: list[Op] = [
            ("set", k.snapshot, b"snap-1"),
            ("set", k.call("c1"), b"view-1"),
            ("set", k.call("c2"), "text"),
            ("setex", k.call("c3"), b"ended", 60),
            ("hset", k.agents, "a1", b"agent-1"),
            ("hset", k.agents, "a2", b"agent-2"),
            ("hset", k.status, "stage", "normal"),
            ("hset", k.status, "epoch", 1),
            ("zadd", k.waiting("sales"), 2.0, "c2"),
            ("zadd", k.waiting("sales"), big, "c1"),
            ("zadd", k.waiting("sales"), 3.0, "c3"),
        ]
        await store.write(lease, [entry(1, 1), entry(1, 2)], ops)

        recovery = await store.load()
        assert recovery.snapshot == b"snap-1"
        assert recovery.journal == [entry(1, 1), entry(1, 2)]
        assert await get(store, k.call("c1")) == b"view-1"
        assert await get(store, k.call("c2")) == b"text"
        assert await get(store, k.call("c3")) == b"ended"
        assert await ttl(store, k.call("c1")) is None
        left = await ttl(store, k.call("c3"))
        assert left is not None and 55 < left <= 60
        assert await hgetall(store, k.agents) == {"a1": b"agent-1", "a2": b"agent-2"}
        assert await hgetall(store, k.status) == {"stage": b"normal", "epoch": b"1"}
        assert await zrange(store, k.waiting("sales")) == [("c1", big), ("c2", 2.0), ("c3", 3.0)]

        ops = [
            ("hdel", k.agents, "a1"),
            ("zrem", k.waiting("sales"), "c1"),
            ("del", k.call("c2")),
            ("del", k.status),  # a hash
            ("set", k.call("c3"), b"again"),  # a plain set drops the expiry
            ("setex", k.call("c4"), b"short", 1),
            ("set", k.snapshot, b"snap-2"),
        ]
        await store.write(lease, [entry(1, 3)], ops)
        assert await hgetall(store, k.agents) == {"a2": b"agent-2"}
        assert await zrange(store, k.waiting("sales")) == [("c2", 2.0), ("c3", 3.0)]
        assert await get(store, k.call("c2")) is None
        assert await hgetall(store, k.status) == {}
        assert await get(store, k.call("c3")) == b"again"
        assert await ttl(store, k.call("c3")) is None

        # trim MINID keeps the given id and later ones; in the same write as new entries
        await store.write(lease, [entry(1, 4)], [("trim", k.journal, "1-3")])
        recovery = await store.load()
        assert recovery.snapshot == b"snap-2"
        assert [i for i, _ in recovery.journal] == ["1-3", "1-4"]
        await store.write(lease, [], [("del", k.waiting("sales")), ("del", k.agents)])
        assert await zrange(store, k.waiting("sales")) == []
        assert await hgetall(store, k.agents) == {}

        await until_expired(store, k.call("c4"))  # c4's second passes
        await store.write(lease, [], [])
        assert await get(store, k.call("c4")) is None
        assert await get(store, k.call("c3")) == b"again"

    run(body, make_store)


def test_journal_ids_of_a_successor_follow_the_old_ones(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        a = await store.acquire("a", 5000, need_snapshot=False)
        assert a is not None
        await store.write(a, [entry(1, 1), entry(1, 2), entry(1, 10)], [])
        await store.release(a)
        b = await store.acquire("b", 5000, need_snapshot=False)
        assert b is not None
        await store.write(b, [entry(2, 1)], [])
        ids = [i for i, _ in (await store.load()).journal]
        assert ids == ["1-1", "1-2", "1-10", "2-1"]
        assert [i for i, _ in await store.tail("1-2", 0)] == ["1-10", "2-1"]
        decoded = [JOURNAL_DECODER.decode(d) for _, d in (await store.load()).journal]
        assert [e.epoch for e in decoded] == [1, 1, 1, 2]

    run(body, make_store)


BAD_WRITES = {
    "an id not after the last": ([entry(1, 3), entry(1, 2)], []),
    "an unknown op": ([entry(1, 3)], [("set", KEYS.call("c9"), b"x"), ("frobnicate", "k")]),
}


@pytest.mark.parametrize("bad", list(BAD_WRITES))
def test_a_refused_write_changes_nothing(
    make_store: Make, bad: str, request: pytest.FixtureRequest
) -> None:
    """`write` is "all or nothing": one it cannot apply raises a StoreError and leaves
    the journal and the keys as they were."""
    journal, ops = BAD_WRITES[bad]

    async def body(store: AnyStore) -> None:
        lease = await store.acquire("a", 5000, need_snapshot=False)
        assert lease is not None
        await store.write(lease, [entry(1, 1), entry(1, 2)], [])
        before = await everything(store)
        with pytest.raises(StoreError):
            await store.write(lease, journal, ops)
        assert await everything(store) == before

    run(body, make_store)


HANG = 10.0
"""Seconds after which a call that should already have returned is taken as hung: a
bound that fails a test instead of hanging it, not a measure of anything."""


def test_tail_returns_later_entries_and_waits_for_a_write(make_store: Make) -> None:
    async def body(store: AnyStore) -> None:
        lease = await store.acquire("a", 5000, need_snapshot=False)
        assert lease is not None
        assert await store.tail("0-0", 0) == []
        await store.write(lease, [entry(1, 1), entry(1, 2), entry(1, 3)], [])
        assert await store.tail("0-0", 0) == [entry(1, 1), entry(1, 2), entry(1, 3)]
        assert await store.tail("1-1", 0) == [entry(1, 2), entry(1, 3)]
        assert await store.tail("1-3", 0) == []

        quiet = asyncio.create_task(store.tail("1-3", 1000))
        await until_blocked(store, quiet)  # waits...
        assert await asyncio.wait_for(quiet, HANG) == []  # ...then, nothing written, nothing

        waiting = asyncio.create_task(store.tail("1-3", 5000))
        await until_blocked(store, waiting)
        await store.write(lease, [entry(1, 4), entry(1, 5)], [])
        found = await asyncio.wait_for(waiting, HANG)
        # Woken by the write, not the timeout: it was blocked before the write, and a
        # read whose time ran out returns nothing.
        assert found[:1] == [entry(1, 4)]  # and whatever else came in the same write
        assert found == [entry(1, 4), entry(1, 5)][: len(found)]

    run(body, make_store)


def test_tail_on_a_quiet_journal_returns_nothing_without_error(make_store: Make) -> None:
    """`tail(after, block_ms)` on a quiet journal waits, then returns [] (after at most
    block_ms; Redis's may return sooner, within its client's socket timeout), never
    raises: here block_ms is longer than the Redis client's socket timeout (2 s)."""

    async def body(store: AnyStore) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        reading = asyncio.create_task(store.tail("0-0", 2100))
        await until_blocked(store, reading)
        assert await asyncio.wait_for(reading, HANG) == []
        if on_virtual_clock():  # exact there: the memory store waits block_ms, no longer
            assert loop.time() - started == pytest.approx(2.1)

    run(body, make_store)


# --- corrupt and foreign data --------------------------------------------------------


GARBAGE = [
    b"",
    b"\xc1",  # never used in MessagePack
    b"not msgpack at all",
    b'{"epoch": 1, "now": 2.0}',  # JSON, not MessagePack
    msgspec.msgpack.encode({"epoch": 1}),  # MessagePack of the wrong shape
    msgspec.msgpack.encode([1, 2.0, {"type": "NoSuchEvent", "call_id": "c"}]),
    msgspec.msgpack.encode([1, 2.0, {"type": "CallArrived"}]),  # a field missing
    msgspec.msgpack.encode([1, 2.0, {"type": "CallArrived", "call_id": "c"}])[:-2],  # cut
    *(random.Random(seed).randbytes(seed % 40 + 1) for seed in range(200)),
]


def test_decode_or_report_never_raises() -> None:
    for data in GARBAGE:
        problems: list[str] = []
        assert decode_or_report(JOURNAL_DECODER, data, "k", problems) is None, data
        assert len(problems) == 1 and problems[0].startswith("k: "), data
        problems.clear()
        assert decode_or_report(SNAPSHOT_DECODER, data, "k", problems) is None, data
        assert len(problems) == 1, data
    good = JournalEntry(epoch=3, now=1.5, event=CallerHungUp(call_id="c1"))
    problems = []
    data = JOURNAL_ENCODER.encode(good)
    assert decode_or_report(JOURNAL_DECODER, data, "k", problems) == good
    assert problems == []


async def add_foreign_entry(store: AnyStore, stream_id: str) -> None:
    """A stream entry another program wrote: no `e` field."""
    if isinstance(store, MemoryStore):
        store.journal.append((stream_id, b""))  # what RedisStore reads for such an entry
    else:
        await store.redis.xadd(store.keys.journal, {"x": "foreign"}, id=stream_id)


def test_corrupt_and_foreign_records_are_read_then_reported(
    make_store: Make, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(store: AnyStore) -> None:
        k = store.keys
        lease = await store.acquire("a", 5000, need_snapshot=False)
        assert lease is not None
        await store.write(
            lease,
            [entry(1, 1), ("1-2", b"\xc1garbage")],
            [("set", k.snapshot, b"\x93not a snapshot")],
        )
        await add_foreign_entry(store, "1-3")
        await store.write(lease, [entry(1, 4)], [])

        recovery = await store.load()
        assert recovery.snapshot == b"\x93not a snapshot"
        assert [i for i, _ in recovery.journal] == ["1-1", "1-2", "1-3", "1-4"]
        assert await store.tail("1-1", 0) == recovery.journal[1:]

        problems: list[str] = []
        assert decode_or_report(SNAPSHOT_DECODER, recovery.snapshot, k.snapshot, problems) is None
        decoded = [
            decode_or_report(JOURNAL_DECODER, data, f"{k.journal} {i}", problems)
            for i, data in recovery.journal
        ]
        assert decoded[0] == JOURNAL_DECODER.decode(entry(1, 1)[1])
        assert decoded[1] is None and decoded[2] is None
        assert decoded[3] == JOURNAL_DECODER.decode(entry(1, 4)[1])
        assert len(problems) == 3
        assert problems[0].startswith(f"{k.snapshot}: undecodable")
        assert problems[1].startswith(f"{k.journal} 1-2: undecodable")
        assert problems[2].startswith(f"{k.journal} 1-3: undecodable")
        logged = [r.getMessage() for r in caplog.records if r.name == "acd.store"]
        assert logged == problems

    with caplog.at_level(logging.WARNING, logger="acd.store"):
        run(body, make_store)


def test_a_snapshot_key_of_a_foreign_type_does_not_stop_load(redis_server: RedisServer) -> None:
    async def body(store: AnyStore) -> None:
        assert isinstance(store, RedisStore)
        await store.redis.hset(store.keys.snapshot, "foreign", "data")
        recovery = await store.load()
        assert recovery.snapshot is None
        assert recovery.problems and store.keys.snapshot in recovery.problems[0]

    run(body, redis(SITE, redis_server.url))


# --- Redis only: URLs, outages, restarts ---------------------------------------------


async def until_available(call: Callable[[], Awaitable[T]], within: float = HANG) -> T:
    """`call()`, retried while it raises Unavailable (the first call after a restart
    may meet a pooled connection the old server closed), as an engine retries; the
    last Unavailable if it still does after `within` seconds (a bound, not a measure)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            return await call()
        except Unavailable:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


def test_redact_hides_the_password() -> None:
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redact("redis://:s3cret@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("rediss://user:s3cret@h:6380/1") == "rediss://user:***@h:6380/1"
    shown = redact("redis+sentinel://:s3cret@h1:26379,h2:26380/mymaster")
    assert shown == "redis+sentinel://:***@h1:26379,h2:26380/mymaster"
    store = RedisStore(SITE, "redis://:s3cret@127.0.0.1:1/0")  # constructs, no connection
    assert "s3cret" not in store.name and store.name == "redis://:***@127.0.0.1:1/0"


def test_connect_accepts_the_redis_url_forms() -> None:
    async def main() -> None:
        plain = connect("redis://127.0.0.1:6390/3")
        kwargs = plain.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 3)

        tls = connect("rediss://:pw@redis.example.invalid:6380/1")
        assert tls.connection_pool.connection_class is SSLConnection
        assert tls.connection_pool.connection_kwargs["password"] == "pw"

        sentinel = connect("redis+sentinel://h1:26379,h2:26380/mymaster")
        pool = sentinel.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        assert pool.service_name == "mymaster"
        hosts = [
            (
                s.connection_pool.connection_kwargs["host"],
                s.connection_pool.connection_kwargs["port"],
            )
            for s in pool.sentinel_manager.sentinels
        ]
        assert hosts == [("h1", 26379), ("h2", 26380)]
        assert pool.connection_kwargs["db"] == 0

        with_db = connect("redis+sentinel://:pw@h1,h2:26380/mymaster/2")
        pool = with_db.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        assert pool.connection_kwargs["db"] == 2
        assert pool.connection_kwargs["password"] == "pw"
        assert [
            s.connection_pool.connection_kwargs["port"] for s in pool.sentinel_manager.sentinels
        ] == [26379, 26380]

        for client in (plain, tls, sentinel, with_db):
            assert isinstance(client, aioredis.Redis)
            await client.aclose()

    asyncio.run(main())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/0",
        "http://:s3cret@127.0.0.1:6379/0",
        "127.0.0.1:6379",
        "redis+sentinel://h1:26379,h2:26380",  # no service
    ],
)
def test_connect_rejects_other_urls_naming_the_option(url: str) -> None:
    with pytest.raises(ValueError, match="--redis") as raised:
        connect(url)
    assert "s3cret" not in str(raised.value)


def test_a_killed_server_makes_every_call_unavailable_until_it_is_back(
    redis_server: RedisServer,
) -> None:
    async def body(store: AnyStore) -> None:
        lease = await store.acquire("a", 5000, need_snapshot=False)
        assert lease is not None
        await store.write(lease, [entry(1, 1)], [("set", store.keys.snapshot, b"s")])
        waiting = asyncio.create_task(store.tail("1-1", 1500))
        await until_blocked(store, waiting)

        redis_server.kill()
        with pytest.raises(Unavailable) as cut:
            await asyncio.wait_for(waiting, HANG)
        # A blocked read is cut, not hung: it fails because the server closed the
        # connection, not because its socket timed out (redis-py's TimeoutError is no
        # ConnectionError).
        assert isinstance(cut.value.__cause__, RedisConnectionError), repr(cut.value.__cause__)
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: store.acquire("b", 5000, need_snapshot=False),
            lambda: store.renew(lease),
            lambda: store.release(lease),
            lambda: store.write(lease, [entry(1, 2)], []),
            store.load,
            lambda: store.tail("0-0", 0),
            lambda: store.tail("0-0", 100),
        ]
        for call in calls:
            with pytest.raises(Unavailable) as refused:
                await asyncio.wait_for(call(), HANG)
            # Refused at once (nobody listens), not waited out on a timeout.
            cause = refused.value.__cause__
            assert isinstance(cause, RedisConnectionError), repr(cause)

        redis_server.restart()  # no persistence: an empty server
        again = await until_available(lambda: store.acquire("b", 5000, need_snapshot=False))
        assert again is not None and again.epoch == 1
        with pytest.raises(Fenced):  # the old lease is gone with the data
            await store.write(lease, [entry(1, 2)], [])
        await store.write(again, [entry(1, 1)], [("set", store.keys.snapshot, b"s2")])
        recovery = await store.load()
        assert (recovery.snapshot, recovery.journal) == (b"s2", [entry(1, 1)])
        assert await store.tail("0-0", 100) == [entry(1, 1)]

    run(body, redis(SITE, redis_server.url))


@pytest.mark.parametrize("redis_server", [{"appendonly": True}], indirect=True)
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_with_an_append_only_file_state_and_epochs_survive_a_restart(
    redis_server: RedisServer, how: str
) -> None:
    async def body(store: AnyStore) -> None:
        lease = await store.acquire("a", 300, need_snapshot=False)
        assert lease is not None and lease.epoch == 1
        ops: list[Op] = [
            ("set", store.keys.snapshot, b"s"),
            ("hset", store.keys.agents, "a1", b"x"),
        ]
        await store.write(lease, [entry(1, 1), entry(1, 2)], ops)

        getattr(redis_server, how)()
        redis_server.start()

        recovery = await until_available(store.load)
        assert (recovery.snapshot, recovery.journal) == (b"s", [entry(1, 1), entry(1, 2)])
        assert await hgetall(store, store.keys.agents) == {"a1": b"x"}
        await until_lease_lapses(store)  # the lease outlived the restart; now it lapses
        successor = await store.acquire("b", 300, need_snapshot=True)
        assert successor is not None and successor.epoch == 2  # the epoch never goes back
        with pytest.raises(Fenced):
            await store.write(lease, [entry(1, 3)], [])
        await store.write(successor, [entry(2, 1)], [])
        assert [i for i, _ in (await store.load()).journal] == ["1-1", "1-2", "2-1"]

    run(body, redis(SITE, redis_server.url))
