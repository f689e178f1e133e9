"""The contract every store keeps: a lease with a fencing epoch, fenced writes, and
recovery reads. `memory.MemoryStore` and `redis.RedisStore` implement it.

Fencing: the lease's token is `<epoch>:<owner>`, the epoch a counter that only grows.
Every write carries the token and the store refuses it (`Fenced`) unless the lease is
still that token, so an engine that lost its lease while paused or cut off cannot
overwrite what its successor writes.

Beside the engine's own state, the contract carries what wallboard servers without an
engine need (issue 10): the live snapshot and the waiting calls of the read model, a
stream of supervisor commands with a reply per command, and an audit trail.

Supervisor commands across a take-over: the engine applies a command as an event and
records the command's id in the status hash (`keys.LAST_COMMAND`) in the same fenced
write as that event's journal entry (`writer.StateWriter.command_done`). A successor
starts reading after `last_command()`: what the old engine applied is in its journal
and not read again; what was submitted but not applied is read. Commands that waited
too long (a gap with no engine) are the engine's to refuse: `command_age` tells a
command's age from its id (the store's clock when it was submitted) and `clock_ms()`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from acd.store.keys import Keys

log = logging.getLogger("acd.store")

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


COMMANDS_CAP = 10_000
"""Supervisor commands kept in the stream (about: Redis trims whole nodes, `MAXLEN ~`)."""

COMMANDS_BATCH = 1000
"""The most commands one `commands()` call returns (the caller reads on after them)."""

AUDIT_CAP = 100_000
"""Audit records kept (about, as `COMMANDS_CAP`)."""


def stream_order(stream_id: str) -> tuple[int, int]:
    """A stream id `<ms>-<seq>` as a sortable pair. Raises ValueError if it is not one."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def command_age(command_id: str, now_ms: int) -> float:
    """Seconds since command `command_id` was submitted, given the store's clock now
    (`Store.clock_ms()`): a stream id starts with the store's clock at the XADD (Redis's
    own time, so the submitter's and the engine's clocks play no part). Never negative.
    Raises ValueError for an id that is not `<ms>-<seq>`."""
    return max(0, now_ms - stream_order(command_id)[0]) / 1000.0


def parse_last_command(raw: bytes | None, key: str, problems: Problems) -> str:
    """The status hash's last command id (`keys.LAST_COMMAND`) as read from `key`; "0-0"
    if there is none, or if it is not a stream id (reported to `problems`)."""
    if raw is None:
        return "0-0"
    text = raw.decode(errors="replace")
    try:
        stream_order(text)
    except ValueError:
        problems.report(f"{key} command: {text!r} is not a stream id; commands are read from 0-0")
        return "0-0"
    return text


class Problems:
    """What a store skipped while reading (a key holding another type, foreign data):
    each problem logged once at WARNING (a wallboard polling a bad key every second
    would otherwise log every second), the latest `keep` kept for whoever shows them."""

    def __init__(self, keep: int = 100) -> None:
        self.latest: deque[str] = deque(maxlen=keep)
        self._logged: deque[str] = deque(maxlen=keep)

    def report(self, problem: str) -> None:
        if problem not in self._logged:
            log.warning("%s", problem)
            self._logged.append(problem)
        self.latest.append(problem)


class StateStore(Protocol):
    """What the engine's own state needs: the lease, fenced writes, recovery reads
    (`writer.StateWriter` and `writer.Follower` need no more, so a store seen through,
    as benchmarks/redis_state.py's counting one, implements only this)."""

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


class Store(StateStore, Protocol):
    """The whole contract: the engine's state, and what wallboard servers without an
    engine need (the live snapshot, waiting calls, supervisor commands and their
    replies, the audit trail). `memory.MemoryStore` and `redis.RedisStore` keep it."""

    problems: Problems
    """What the reads below met and skipped (keys of another type): reported, not raised."""

    async def live(self) -> bytes | None:
        """The engine's live snapshot (`engine.snapshot.Snapshot`, MessagePack) as last
        written by the projection; None if there is none (or the key holds another
        type: reported). Raises Unavailable."""
        ...

    async def waiting_calls(self, queue: str, limit: int) -> list[bytes]:
        """The first `limit` calls waiting in `queue`, in service order: their `CallView`
        records (MessagePack), in one round trip. A call whose view is missing or of
        another type is left out (the latter reported). Raises Unavailable."""
        ...

    async def submit(self, command: bytes) -> str:
        """Append a supervisor command to the commands stream (capped at about
        `commands_cap`); its stream id, which starts with the store's clock in ms.
        Raises Unavailable, StoreError (the stream key holds another type)."""
        ...

    async def commands(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        """Commands after stream id `after` ("0-0": all kept; "$": only those submitted
        from now on), oldest first, at most `COMMANDS_BATCH` of them; waiting up to
        `block_ms` on the loop's clock for the first (Redis: at most 1.5 s a call, under
        the client's socket timeout; callers loop). A key of another type is reported
        and gives [] after the wait.
        Raises Unavailable, StoreError (`after` is not a stream id)."""
        ...

    async def last_command(self) -> str:
        """The id of the last command an engine applied (as `command_done` recorded it
        with its journal entry), "0-0" if none (or unreadable: reported). A new holder of
        the lease reads `commands` after it. Raises Unavailable."""
        ...

    async def clock_ms(self) -> int:
        """The store's clock now, in ms, the one command ids start with (Redis: TIME; the
        memory store: the loop's clock). Raises Unavailable."""
        ...

    async def answer(self, command_id: str, result: bytes, ttl_s: int = 60) -> None:
        """Reply to command `command_id`: pushed to its reply key, which expires `ttl_s`
        after (one round trip); the submitter's `await_answer` takes it. A reply key of
        another type is reported and left alone. Raises Unavailable."""
        ...

    async def await_answer(self, command_id: str, timeout_s: float) -> bytes | None:
        """The reply to command `command_id`, waiting up to `timeout_s` (loop's clock)
        for it; None if none came (or the key holds another type: reported). A reply is
        taken once. Raises Unavailable."""
        ...

    async def audit(self, entry: bytes) -> str:
        """Append a record (who, what, when, result: the caller's bytes) to the audit
        trail, capped at about `audit_cap`; its stream id. Raises Unavailable,
        StoreError (the key holds another type)."""
        ...

    async def audit_tail(self, count: int) -> list[tuple[str, bytes]]:
        """The newest `count` audit records, newest first (a key of another type:
        reported, []). Raises Unavailable."""
        ...
