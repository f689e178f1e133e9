"""The embedded store: the same contract as Redis, in this process's memory. It is
what `acd serve` uses without `--redis` (nothing survives the process), and the
baseline of benchmarks/redis_state.py.

Its lease and key expiries run on the event loop's clock (`base.loop_time()`: the
monotonic clock in production, a virtual one under a test's looptime loop), where
Redis's run on the Redis server's own clock. So do the ids of its streams (supervisor
commands, audit records): `<ms of the loop's clock>-<seq>`, as Redis's start with its
own time, and every wait (`commands`, `await_answer`) is on an `asyncio.Event`, bounded
on that clock: nothing polls."""

from __future__ import annotations

import asyncio
import bisect
import heapq

from acd.store.base import (
    AUDIT_CAP,
    COMMANDS_BATCH,
    COMMANDS_CAP,
    Fenced,
    Lease,
    Op,
    Problems,
    Recovery,
    StoreError,
    loop_time,
    parse_last_command,
    stream_order,
)
from acd.store.keys import LAST_COMMAND, Keys

_OPS = frozenset({"set", "setex", "del", "hset", "hdel", "zadd", "zrem", "trim"})


_id = stream_order


class Stream:
    """A stream of (id, data): ids `<ms>-<seq>` from the loop's clock, growing as
    Redis's do; capped like `XADD MAXLEN ~ cap` (trimmed in chunks, never below the cap)."""

    def __init__(self) -> None:
        self.entries: list[tuple[tuple[int, int], str, bytes]] = []
        self.last = (0, 0)
        self.grew = asyncio.Event()
        """Set (and replaced) at every append: what a blocked reader waits on."""

    def add(self, data: bytes, cap: int) -> str:
        ms = int(loop_time() * 1000)
        last_ms, last_seq = self.last
        this = (last_ms, last_seq + 1) if ms <= last_ms else (ms, 0)
        if this == (0, 0):
            this = (0, 1)  # 0-0 is nobody's id: it means "from the start"
        self.last = this
        stream_id = f"{this[0]}-{this[1]}"
        self.entries.append((this, stream_id, data))
        if len(self.entries) > cap + max(1, cap // 10):
            del self.entries[: len(self.entries) - cap]
        self.grew.set()
        self.grew = asyncio.Event()
        return stream_id

    def after(self, floor: tuple[int, int], count: int) -> list[tuple[str, bytes]]:
        """The first `count` entries after id `floor`."""
        start = bisect.bisect_right(self.entries, floor, key=lambda e: e[0])
        return [(i, d) for _, i, d in self.entries[start : start + count]]


class MemoryStore:
    def __init__(
        self, site: str, *, commands_cap: int = COMMANDS_CAP, audit_cap: int = AUDIT_CAP
    ) -> None:
        self.keys = Keys(site)
        self.name = "memory"
        self.problems = Problems()
        self.strings: dict[str, bytes] = {}
        self.hashes: dict[str, dict[str, bytes]] = {}
        self.zsets: dict[str, dict[str, float]] = {}
        self.lists: dict[str, list[bytes]] = {}
        """Replies to supervisor commands (`keys.answer(id)`)."""
        self.journal: list[tuple[str, bytes]] = []
        self.command_stream = Stream()
        self.audit_stream = Stream()
        self.commands_cap = commands_cap
        self.audit_cap = audit_cap
        self._answered = asyncio.Event()
        """Set (and replaced) at every reply: what `await_answer` waits on."""
        self.expires: dict[str, float] = {}
        self._expiring: list[tuple[float, str]] = []
        """(due, key) heap over `expires`, so expiry costs nothing per write."""
        self._lease: tuple[str, float] | None = None
        self._epoch = 0
        self._grew = asyncio.Event()
        self.blocked_readers = 0
        """Reads waiting now (`tail`, `commands`, `await_answer`): what Redis reports as
        `blocked_clients`."""

    async def _wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait until `event` is set (True) or `seconds` pass (False), counted among
        the blocked readers meanwhile."""
        self.blocked_readers += 1
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            self.blocked_readers -= 1
        return True

    def _lease_token(self) -> str | None:
        if self._lease is not None and self._lease[1] > loop_time():
            return self._lease[0]
        return None

    async def acquire(self, owner: str, ttl_ms: int, *, need_snapshot: bool) -> Lease | None:
        if self._lease_token() is not None:
            return None
        if need_snapshot and self.keys.snapshot not in self.strings:
            return None
        self._epoch += 1
        lease = Lease(owner, self._epoch, ttl_ms)
        self._lease = (lease.token, loop_time() + ttl_ms / 1000.0)
        return lease

    async def renew(self, lease: Lease) -> None:
        if self._lease_token() != lease.token:
            raise Fenced(f"lease {lease.token} lost")
        now = loop_time()
        self._lease = (lease.token, now + lease.ttl_ms / 1000.0)
        lease.renewed_at = now

    async def release(self, lease: Lease) -> None:
        if self._lease_token() == lease.token:
            self._lease = None

    async def write(self, lease: Lease, journal: list[tuple[str, bytes]], ops: list[Op]) -> None:
        if self._lease_token() != lease.token:
            raise Fenced(f"lease {lease.token} lost")
        # As the Redis script: everything is checked before anything is written.
        last = _id(self.journal[-1][0]) if self.journal else (0, 0)
        for entry_id, _data in journal:
            this = _id(entry_id)
            if this <= last:
                raise StoreError(f"journal id {entry_id} is not after the last one")
            last = this
        for op in ops:
            if op[0] not in _OPS:
                raise StoreError(f"unknown op {op[0]}")
        self.journal.extend(journal)
        for op in ops:
            kind, key = op[0], op[1]
            if kind == "set":
                self.strings[key] = _bytes(op[2])
                self.expires.pop(key, None)
            elif kind == "setex":
                self.strings[key] = _bytes(op[2])
                self._expire_at(key, float(op[3]))
            elif kind == "del":
                self.strings.pop(key, None)
                self.lists.pop(key, None)
                self.hashes.pop(key, None)
                self.zsets.pop(key, None)
            elif kind == "hset":
                self.hashes.setdefault(key, {})[str(op[2])] = _bytes(op[3])
            elif kind == "hdel":
                self.hashes.get(key, {}).pop(str(op[2]), None)
            elif kind == "zadd":
                self.zsets.setdefault(key, {})[str(op[3])] = float(op[2])
            elif kind == "zrem":
                self.zsets.get(key, {}).pop(str(op[2]), None)
            elif kind == "trim":
                floor = _id(str(op[2]))
                self.journal = [e for e in self.journal if _id(e[0]) >= floor]
        if journal:
            self._grew.set()
            self._grew = asyncio.Event()
        self._expire()

    def _expire(self) -> None:
        """Drop the keys whose time to live has run out (at writes, as Redis would have
        by then)."""
        now = loop_time()
        expiring, expires = self._expiring, self.expires
        while expiring and expiring[0][0] <= now:
            due, key = heapq.heappop(expiring)
            if expires.get(key) == due:  # not set again since
                del expires[key]
                self.strings.pop(key, None)
                self.lists.pop(key, None)

    def _expire_at(self, key: str, seconds: float) -> None:
        self.expires[key] = due = loop_time() + seconds
        heapq.heappush(self._expiring, (due, key))

    async def load(self) -> Recovery:
        return Recovery(self.strings.get(self.keys.snapshot), list(self.journal))

    async def tail(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        floor = _id(after)
        found = [e for e in self.journal if _id(e[0]) > floor]
        if not found and block_ms:
            if not await self._wait(self._grew, block_ms / 1000.0):
                return []
            found = [e for e in self.journal if _id(e[0]) > floor]
        return found

    def waiting(self, queue: str) -> list[str]:
        """The read model's waiting calls of `queue`, in service order (their ids)."""
        members = self.zsets.get(self.keys.waiting(queue), {})
        return sorted(members, key=lambda m: (members[m], m))

    # ------------------------------------------------------------ wallboard servers

    async def live(self) -> bytes | None:
        return self.strings.get(self.keys.live)

    async def waiting_calls(self, queue: str, limit: int) -> list[bytes]:
        if limit <= 0:
            return []
        views = (self.strings.get(self.keys.call(c)) for c in self.waiting(queue)[:limit])
        return [view for view in views if view is not None]

    async def submit(self, command: bytes) -> str:
        return self.command_stream.add(command, self.commands_cap)

    async def commands(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        stream = self.command_stream
        try:
            floor = stream.last if after == "$" else _id(after)
        except ValueError as e:
            raise StoreError(f"{self.keys.commands}: {after!r} is not a stream id") from e
        found = stream.after(floor, COMMANDS_BATCH)
        if not found and block_ms > 0:
            if not await self._wait(stream.grew, block_ms / 1000.0):
                return []
            found = stream.after(floor, COMMANDS_BATCH)
        return found

    async def last_command(self) -> str:
        raw = self.hashes.get(self.keys.status, {}).get(LAST_COMMAND)
        return parse_last_command(raw, self.keys.status, self.problems)

    async def clock_ms(self) -> int:
        return int(loop_time() * 1000)

    async def answer(self, command_id: str, result: bytes, ttl_s: int = 60) -> None:
        key = self.keys.answer(command_id)
        self._expire()
        self.lists.setdefault(key, []).append(result)
        self._expire_at(key, ttl_s)
        self._answered.set()
        self._answered = asyncio.Event()

    async def await_answer(self, command_id: str, timeout_s: float) -> bytes | None:
        key = self.keys.answer(command_id)
        deadline = loop_time() + timeout_s
        while True:
            self._expire()
            replies = self.lists.get(key)
            if replies:
                reply = replies.pop(0)
                if not replies:  # an empty list is no key, as in Redis
                    del self.lists[key]
                    self.expires.pop(key, None)
                return reply
            left = deadline - loop_time()
            if left <= 0:
                return None
            if not await self._wait(self._answered, left):
                return None

    async def audit(self, entry: bytes) -> str:
        return self.audit_stream.add(entry, self.audit_cap)

    async def audit_tail(self, count: int) -> list[tuple[str, bytes]]:
        if count <= 0:
            return []
        return [(i, d) for _, i, d in reversed(self.audit_stream.entries[-count:])]

    async def close(self) -> None:
        pass


def _bytes(value: str | bytes | float | int) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
