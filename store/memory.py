"""The embedded store: the same contract as Redis, in this process's memory. It is
what `acd serve` uses without `--redis` (nothing survives the process), and the
baseline of benchmarks/redis_state.py.

Its lease and key expiries run on the event loop's clock (`base.loop_time()`: the
monotonic clock in production, a virtual one under a test's looptime loop), where
Redis's run on the Redis server's own clock."""

from __future__ import annotations

import asyncio
import heapq

from acd.store.base import Fenced, Lease, Op, Recovery, StoreError, loop_time
from acd.store.keys import Keys

_OPS = frozenset({"set", "setex", "del", "hset", "hdel", "zadd", "zrem", "trim"})


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class MemoryStore:
    def __init__(self, site: str) -> None:
        self.keys = Keys(site)
        self.name = "memory"
        self.strings: dict[str, bytes] = {}
        self.hashes: dict[str, dict[str, bytes]] = {}
        self.zsets: dict[str, dict[str, float]] = {}
        self.journal: list[tuple[str, bytes]] = []
        self.expires: dict[str, float] = {}
        self._expiring: list[tuple[float, str]] = []
        """(due, key) heap over `expires`, so expiry costs nothing per write."""
        self._lease: tuple[str, float] | None = None
        self._epoch = 0
        self._grew = asyncio.Event()

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
                self.expires[key] = due = loop_time() + float(op[3])
                heapq.heappush(self._expiring, (due, key))
            elif kind == "del":
                self.strings.pop(key, None)
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
        now = loop_time()
        expiring, expires = self._expiring, self.expires
        while expiring and expiring[0][0] <= now:
            due, key = heapq.heappop(expiring)
            if expires.get(key) == due:  # not set again since
                del expires[key]
                self.strings.pop(key, None)

    async def load(self) -> Recovery:
        return Recovery(self.strings.get(self.keys.snapshot), list(self.journal))

    async def tail(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        floor = _id(after)
        found = [e for e in self.journal if _id(e[0]) > floor]
        if not found and block_ms:
            try:
                await asyncio.wait_for(self._grew.wait(), block_ms / 1000.0)
            except TimeoutError:
                return []
            found = [e for e in self.journal if _id(e[0]) > floor]
        return found

    def waiting(self, queue: str) -> list[str]:
        """The read model's waiting calls of `queue`, in service order."""
        members = self.zsets.get(self.keys.waiting(queue), {})
        return sorted(members, key=lambda m: members[m])

    async def close(self) -> None:
        pass


def _bytes(value: str | bytes | float | int) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
