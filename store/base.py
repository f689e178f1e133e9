"""The contract every store keeps: a lease with a fencing epoch, fenced writes, and
recovery reads. `memory.MemoryStore` and `redis.RedisStore` implement it.

Fencing: the lease's token is `<epoch>:<owner>`, the epoch a counter that only grows.
Every write carries the token and the store refuses it (`Fenced`) unless the lease is
still that token, so an engine that lost its lease while paused or cut off cannot
overwrite what its successor writes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from acd.store.keys import Keys

Op = tuple[Any, ...]
"""A write to a key: ("set", key, value), ("setex", key, value, seconds), ("del", key),
("hset", key, field, value), ("hdel", key, field), ("zadd", key, score, member),
("zrem", key, member), ("trim", journal key, min id)."""


def loop_time() -> float:
    """Now, in seconds, on the clock the stores measure every lease, expiry and interval
    with: the running event loop's (`loop.time()`).

    In production that is the monotonic clock: asyncio's loop returns
    `time.monotonic()`, uvloop reads the same CLOCK_MONOTONIC to the millisecond. Under
    a test's virtual loop (looptime) it is virtual, so a lease lapsing or a quiet
    second costs no wall time and cannot race the machine's load. Outside a running
    loop (an object built before its loop starts): `time.monotonic()`, what those
    production loops read.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return time.monotonic()
    return loop.time()


class StoreError(Exception):
    pass


class Fenced(StoreError):
    """The lease is someone else's (or nobody's): this engine must stop writing and
    step down."""


class Unavailable(StoreError):
    """The store cannot be reached now (a Redis restart, a network cut)."""


@dataclass
class Lease:
    owner: str
    epoch: int
    ttl_ms: int
    renewed_at: float = field(default_factory=loop_time)
    """When the store last confirmed it (`loop_time()`: the loop's monotonic clock)."""

    @property
    def token(self) -> str:
        return f"{self.epoch}:{self.owner}"

    def fresh(self, margin: float = 0.8) -> bool:
        """Confirmed within `margin` of its time to live (on `loop_time()`, the clock
        `renewed_at` was read on): surely still ours."""
        return loop_time() - self.renewed_at < margin * self.ttl_ms / 1000.0


@dataclass
class Recovery:
    """What a store holds for a site: the last snapshot (encoded `SnapshotRecord`) and
    the journal entries after it (stream id, encoded `JournalEntry`)."""

    snapshot: bytes | None
    journal: list[tuple[str, bytes]]
    problems: list[str] = field(default_factory=list)
    """Keys that could not be read (wrong type, someone else's data), reported."""


class Store(Protocol):
    keys: Keys
    name: str
    """For logs: "memory" or the Redis address (never its password)."""

    async def acquire(self, owner: str, ttl_ms: int, *, need_snapshot: bool) -> Lease | None:
        """Take the lease if nobody holds it (with a new epoch), else None. With
        `need_snapshot` only if a snapshot exists (a standby has nothing to carry on
        from otherwise). Raises Unavailable."""
        ...

    async def renew(self, lease: Lease) -> None:
        """Extend the lease. Raises Fenced if it is not ours any more, Unavailable."""
        ...

    async def release(self, lease: Lease) -> None: ...

    async def write(self, lease: Lease, journal: list[tuple[str, bytes]], ops: list[Op]) -> None:
        """Append journal entries (stream id, data) and apply `ops`, all or nothing,
        only while `lease` holds. Raises Fenced, Unavailable."""
        ...

    async def load(self) -> Recovery: ...

    async def tail(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        """Journal entries after stream id `after` ("0-0": all), waiting up to
        `block_ms` for the first. Raises Unavailable."""
        ...

    async def close(self) -> None: ...
