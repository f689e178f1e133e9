"""Both stores under one test contract: making them, running a test's body on the clock
that suits the store, and reading and waiting on what they hold the same way for each
(tests/test_store.py, tests/test_read_model.py).

The clocks: the memory store keeps its lease and its keys' expiries on the event loop's
clock (`acd.store.base.loop_time`), so its tests run on a virtual one (looptime): a
lease lapsing or a quiet second costs no wall time, and a loaded machine cannot make a
timer fire late. A Redis server expires keys in its own real time, so Redis tests run
on an ordinary loop and wait for what they can observe (`eventually`: a key gone, a
client blocked), never for a guessed time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import looptime
import pytest

from acd.store.base import loop_time
from acd.store.memory import MemoryStore
from acd.store.redis import RedisStore
from tests.redis_server import RedisServer
from tests.vtime import run_virtual

AnyStore = MemoryStore | RedisStore
T = TypeVar("T")

WITHIN = 10.0
"""The default bound, in seconds of the loop's clock, of `eventually`: far above what
anything here needs (a 150 ms lease lapsing, a lease tick), so only a store that never
does the thing reaches it."""

POLL = 0.01
"""Seconds of the loop's clock between two looks of `eventually` (on a virtual clock
they cost no wall time; on Redis, one round trip each)."""


@dataclass(frozen=True)
class Make:
    """How a test gets the store under test. `new()` makes it inside the loop that runs
    the test (a RedisStore's connections belong to that loop); `virtual` says that
    loop runs on a virtual clock (only a store that keeps time on the loop's clock may:
    the memory store)."""

    new: Callable[[], AnyStore]
    virtual: bool


def memory(site: str) -> Make:
    """A MemoryStore for `site`, on a virtual clock."""
    return Make(lambda: MemoryStore(site), virtual=True)


def redis(site: str, url: str) -> Make:
    """A RedisStore for `site` on the server at `url`, on a real clock."""
    return Make(lambda: RedisStore(site, url), virtual=False)


def maker(request: pytest.FixtureRequest, site: str) -> Make:
    """For a fixture parametrized "memory"/"redis": that store for `site` (the redis one
    on this test's own server)."""
    if request.param == "memory":
        return memory(site)
    server: RedisServer = request.getfixturevalue("redis_server")
    return redis(site, server.url)


def run(body: Callable[[AnyStore], Awaitable[T]], make: Make) -> T:
    """Run `body(store)` in a fresh event loop (a virtual clock's if `make.virtual`),
    closing the store afterwards."""

    async def main() -> T:
        store = make.new()
        try:
            return await body(store)
        finally:
            await store.close()

    if make.virtual:
        return run_virtual(main())
    return asyncio.run(main())


def on_virtual_clock() -> bool:
    """Whether the running loop's clock is virtual (a memory store's test), where time
    that passes can be asserted to the microsecond."""
    loop = asyncio.get_running_loop()
    return isinstance(loop, looptime.LoopTimeEventLoop) and loop.looptime_on


async def eventually(
    condition: Callable[[], Awaitable[bool]], what: str, within: float = WITHIN
) -> None:
    """Return as soon as `condition()` holds, looking every `POLL` seconds of the loop's
    clock; fail the test ("`what`: not within N s") if it still does not after
    `within` seconds. The bound is only there so that a store that never does the thing
    fails rather than hangs; it measures nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(POLL)


async def lease_held(store: AnyStore) -> bool:
    """Whether anyone holds the store's lease now, as the store itself sees it."""
    if isinstance(store, MemoryStore):
        return store._lease_token() is not None
    return bool(await store.redis.exists(store.keys.lease))


async def until_lease_lapses(store: AnyStore, within: float = WITHIN) -> None:
    """Wait until the lease has lapsed (its time to live ran out without a renewal):
    in Redis, until the server dropped the key; in the memory store, until the loop's
    clock passed its expiry."""

    async def lapsed() -> bool:
        return not await lease_held(store)

    await eventually(lapsed, "the lease is still held", within)


async def until_expired(store: AnyStore, key: str, within: float = WITHIN) -> None:
    """Wait until `key` has outlived its time to live: in Redis, until the server
    dropped it; in the memory store (which drops expired keys at its next write), until
    the loop's clock passed its expiry. Fails if `key` has no expiry and stays."""

    async def expired() -> bool:
        if isinstance(store, MemoryStore):
            due = store.expires.get(key)
            if due is None:
                return key not in store.strings
            return due <= loop_time()
        return not await store.redis.exists(key)

    await eventually(expired, f"{key} has not expired", within)


def text(value: bytes | str) -> str:
    """A Redis reply as text (the stores' clients reply bytes; redis-py's types allow
    either)."""
    return value.decode() if isinstance(value, bytes) else value


def data(value: bytes | str) -> bytes:
    """A Redis reply as bytes (see `text`)."""
    return value if isinstance(value, bytes) else value.encode()


async def get(store: AnyStore, key: str) -> bytes | None:
    if isinstance(store, MemoryStore):
        return store.strings.get(key)
    value = await store.redis.get(key)
    return None if value is None else data(value)


async def ttl(store: AnyStore, key: str) -> float | None:
    """Seconds the key has left (the memory store's on the loop's clock, as it counts
    them), None without an expiry."""
    if isinstance(store, MemoryStore):
        at = store.expires.get(key)
        return None if at is None else at - loop_time()
    ms: int = await store.redis.pttl(key)
    return None if ms < 0 else ms / 1000.0


async def hgetall(store: AnyStore, key: str) -> dict[str, bytes]:
    if isinstance(store, MemoryStore):
        return dict(store.hashes.get(key, {}))
    raw = await store.redis.hgetall(key)
    return {text(k): data(v) for k, v in raw.items()}


async def zrange(store: AnyStore, key: str) -> list[tuple[str, float]]:
    if isinstance(store, MemoryStore):
        members = store.zsets.get(key, {})
        return sorted(members.items(), key=lambda item: (item[1], item[0]))
    # With scores, the reply is (member, score) pairs; redis-py's type is every form.
    raw = cast(
        list[tuple[bytes, float]], await store.redis.zrange(key, 0, -1, withscores=True)
    )
    return [(text(m), s) for m, s in raw]


async def until_blocked(store: AnyStore, reading: asyncio.Task[Any]) -> None:
    """Return once `reading` (a blocking read: `tail`, `commands`, `await_answer`) is
    blocked waiting; fail if it returned instead.

    Both stores show it: Redis counts a blocked client, the memory store a blocked
    reader."""

    async def blocked() -> bool:
        if reading.done():
            return True  # it returned: reported below
        if isinstance(store, MemoryStore):
            return store.blocked_readers >= 1
        info = await store.redis.info("clients")
        return int(info["blocked_clients"]) >= 1

    await eventually(blocked, "the read never blocked")
    assert not reading.done(), f"the read returned {reading.result()!r} instead of waiting"
