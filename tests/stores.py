"""Both stores under one test contract: making them, and reading what they hold the
same way for each (tests/test_store.py, tests/test_read_model.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from acd.store.memory import MemoryStore
from acd.store.redis import RedisStore
from tests.redis_server import RedisServer

AnyStore = MemoryStore | RedisStore
Make = Callable[[], AnyStore]
T = TypeVar("T")


def run(body: Callable[[AnyStore], Awaitable[T]], make: Make) -> T:
    """Run `body(store)` in a fresh event loop, closing the store afterwards."""

    async def main() -> T:
        store = make()
        try:
            return await body(store)
        finally:
            await store.close()

    return asyncio.run(main())


def maker(request: pytest.FixtureRequest, site: str) -> Make:
    """For a fixture parametrized "memory"/"redis": a factory of that store for `site`
    (the redis one on this test's own server)."""
    if request.param == "memory":
        return lambda: MemoryStore(site)
    server: RedisServer = request.getfixturevalue("redis_server")
    return lambda: RedisStore(site, server.url)


async def get(store: AnyStore, key: str) -> bytes | None:
    if isinstance(store, MemoryStore):
        return store.strings.get(key)
    value: bytes | None = await store.redis.get(key)
    return value


async def ttl(store: AnyStore, key: str) -> float | None:
    """Seconds the key has left, None without an expiry."""
    if isinstance(store, MemoryStore):
        at = store.expires.get(key)
        return None if at is None else at - time.monotonic()
    ms: int = await store.redis.pttl(key)
    return None if ms < 0 else ms / 1000.0


async def hgetall(store: AnyStore, key: str) -> dict[str, bytes]:
    if isinstance(store, MemoryStore):
        return dict(store.hashes.get(key, {}))
    raw: dict[bytes, bytes] = await store.redis.hgetall(key)
    return {k.decode(): v for k, v in raw.items()}


async def zrange(store: AnyStore, key: str) -> list[tuple[str, float]]:
    if isinstance(store, MemoryStore):
        members = store.zsets.get(key, {})
        return sorted(members.items(), key=lambda item: (item[1], item[0]))
    raw: list[tuple[bytes, float]] = await store.redis.zrange(key, 0, -1, withscores=True)
    return [(m.decode(), s) for m, s in raw]
