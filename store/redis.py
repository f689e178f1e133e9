"""The Redis store: lease, fenced writes and recovery in Lua scripts, so each is one
round trip and atomic, and every write checks the fencing token inside Redis.

URLs: `redis://[:password@]host:port/db`, `rediss://...` (TLS), and Sentinel as
`redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`. Every key of a
site carries the site as a hash tag (store/keys.py), so the scripts are valid on
Redis Cluster too (all their keys are in one slot and are passed as KEYS).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Awaitable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
    Unavailable,
    loop_time,
    parse_last_command,
    stream_order,
)
from acd.store.keys import LAST_COMMAND, Keys

ACQUIRE = """
-- KEYS: lease, epoch, snapshot. ARGV: owner, ttl ms, need snapshot (1/0).
-- A lease that is not one an engine set (`<epoch>:<owner>` with a time to live) never
-- lapses, and an epoch that is not an integer cannot grow: both are someone else's
-- data, left alone and named to the caller (BADLEASE, BADEPOCH), never taken over.
if redis.call('EXISTS', KEYS[1]) == 1 then
  local held = redis.pcall('GET', KEYS[1])
  if type(held) ~= 'string' then
    return redis.error_reply('BADLEASE it holds a ' .. redis.call('TYPE', KEYS[1])['ok'])
  end
  if not string.match(held, '^%d+:') or redis.call('PTTL', KEYS[1]) < 0 then
    local shown = string.gsub(string.sub(held, 1, 40), '[^%w%p ]', '?')
    return redis.error_reply('BADLEASE it holds "' .. shown .. '" with a time to live of '
      .. redis.call('PTTL', KEYS[1]) .. ' ms')
  end
  return false
end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then return false end
local epoch = redis.pcall('INCR', KEYS[2])
if type(epoch) == 'table' then return redis.error_reply('BADEPOCH ' .. epoch.err) end
redis.call('SET', KEYS[1], epoch .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
return epoch
"""

RENEW = """
-- KEYS: lease. ARGV: token, ttl ms.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

WRITE = """
-- KEYS: lease, journal, then every key an op names. ARGV: token, n entries,
-- n pairs (stream id, data), then ops: name, key index, args...
-- Everything is checked before anything is written: Redis does not undo a script
-- that fails half-way, and a write must be all or nothing.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lease is not ' .. ARGV[1])
end
local function id(s)
  local ms, seq = string.match(s, '^(%d+)-(%d+)$')
  if not ms then return nil end
  return {tonumber(ms), tonumber(seq)}
end
local function after(a, b) return a[1] > b[1] or (a[1] == b[1] and a[2] > b[2]) end
local n = tonumber(ARGV[2])
local last = {0, 0}
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('TYPE', KEYS[2])['ok'] ~= 'stream' then
    return redis.error_reply('BADWRITE ' .. KEYS[2] .. ' is not a stream')
  end
  local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if #top > 0 then last = id(top[1][1]) end
end
local i = 3
for _ = 1, n do
  local this = id(ARGV[i])
  if not this or not after(this, last) then
    return redis.error_reply('BADWRITE journal id ' .. ARGV[i] .. ' is not after the last one')
  end
  last = this
  i = i + 2
end
local width = {set = 3, setex = 4, del = 2, hset = 4, hdel = 3, zadd = 4, zrem = 3, trim = 3}
local j = i
while j <= #ARGV do
  local w = width[ARGV[j]]
  if not w then return redis.error_reply('BADWRITE unknown op ' .. ARGV[j]) end
  j = j + w
end
i = 3
for _ = 1, n do
  redis.call('XADD', KEYS[2], ARGV[i], 'e', ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local op, k = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == 'set' then redis.call('SET', k, ARGV[i + 2])
  elseif op == 'setex' then redis.call('SET', k, ARGV[i + 2], 'EX', ARGV[i + 3])
  elseif op == 'del' then redis.call('DEL', k)
  elseif op == 'hset' then redis.call('HSET', k, ARGV[i + 2], ARGV[i + 3])
  elseif op == 'hdel' then redis.call('HDEL', k, ARGV[i + 2])
  elseif op == 'zadd' then redis.call('ZADD', k, ARGV[i + 2], ARGV[i + 3])
  elseif op == 'zrem' then redis.call('ZREM', k, ARGV[i + 2])
  elseif op == 'trim' then redis.call('XTRIM', k, 'MINID', ARGV[i + 2]) end
  i = i + width[op]
end
return 1
"""


WAITING = """
-- KEYS: a queue's waiting set. ARGV: the call key prefix, limit.
-- The call keys carry the site's hash tag, as KEYS[1] does: one Cluster slot.
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local views, foreign = {}, {}
for _, id in ipairs(ids) do
  local view = redis.pcall('GET', ARGV[1] .. id)
  if type(view) == 'table' and view.err then
    foreign[#foreign + 1] = id
  elseif view then
    views[#views + 1] = view
  end
end
return {views, foreign}
"""

ANSWER = """
-- KEYS: a command's reply list. ARGV: the reply, seconds to live.
-- Checked first: a key of someone else's is left alone (its expiry too).
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'none' and kind ~= 'list' then
  return redis.error_reply('WRONGTYPE the reply key holds a ' .. kind)
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

BLOCK_S = 1.5
"""The longest a blocking read (XREAD, BLPOP) waits in one call: under the client's
socket timeout (2 s), which would otherwise cut it off as a lost connection."""


def connect(url: str) -> aioredis.Redis:
    """A client for a redis://, rediss:// or redis+sentinel:// URL (bytes replies)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "redis+sentinel":
        hosts = []
        for item in parts.netloc.rpartition("@")[2].split(","):
            host, _, port = item.rpartition(":")
            hosts.append((host or item, int(port) if port.isdigit() else 26379))
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError(f"--redis {redact(url)}: a Sentinel URL names the service")
        db = int(path[1]) if len(path) > 1 else 0
        sentinel = Sentinel(hosts, password=parts.password, socket_timeout=2.0)
        client: aioredis.Redis = sentinel.master_for(path[0], db=db, password=parts.password)
        return client
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(
            f"--redis {redact(url)}: expected redis://, rediss:// or redis+sentinel://"
        )
    return aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class RedisStore:
    def __init__(
        self,
        site: str,
        url: str,
        *,
        client: aioredis.Redis | None = None,
        commands_cap: int = COMMANDS_CAP,
        audit_cap: int = AUDIT_CAP,
    ) -> None:
        self.keys = Keys(site)
        self.name = redact(url)
        self.problems = Problems()
        self.commands_cap = commands_cap
        self.audit_cap = audit_cap
        self.redis = client if client is not None else connect(url)
        self._acquire = self.redis.register_script(ACQUIRE)
        self._renew = self.redis.register_script(RENEW)
        self._release = self.redis.register_script(RELEASE)
        self._write = self.redis.register_script(WRITE)
        self._waiting = self.redis.register_script(WAITING)
        self._answer = self.redis.register_script(ANSWER)

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            raise Unavailable(f"{self.name}: {e}") from e
        except ResponseError as e:
            if str(e).startswith("FENCED"):
                raise Fenced(str(e)) from e
            raise StoreError(f"{self.name}: {e}") from e

    async def acquire(self, owner: str, ttl_ms: int, *, need_snapshot: bool) -> Lease | None:
        """As the contract says; a lease or epoch key holding someone else's data (see
        ACQUIRE) is reported, naming the key and what to do, and no lease is taken."""
        k = self.keys
        try:
            epoch = await self._call(
                self._acquire, [k.lease, k.epoch, k.snapshot], [owner, ttl_ms, int(need_snapshot)]
            )
        except Unavailable:
            raise
        except StoreError as e:
            why = str(e).partition("BADLEASE ")[2] or str(e).partition("BADEPOCH ")[2]
            if not why:
                raise
            key, what = (k.lease, "not a lease an engine set, and it never lapses") \
                if "BADLEASE" in str(e) else (k.epoch, "not a fencing epoch that can grow")
            self.problems.report(
                f"{key}: {why.split(' script: ')[0]}: {what}; no engine takes the lease "
                "until it is set right or deleted"
            )
            return None
        return None if epoch is None else Lease(owner, int(epoch), ttl_ms)

    async def renew(self, lease: Lease) -> None:
        ok = await self._call(self._renew, [self.keys.lease], [lease.token, lease.ttl_ms])
        if not ok:
            raise Fenced(f"lease {lease.token} lost")
        lease.renewed_at = loop_time()

    async def release(self, lease: Lease) -> None:
        await self._call(self._release, [self.keys.lease], [lease.token])

    async def write(self, lease: Lease, journal: list[tuple[str, bytes]], ops: list[Op]) -> None:
        keys = [self.keys.lease, self.keys.journal]
        index: dict[str, int] = {}
        args: list[Any] = [lease.token, len(journal)]
        for stream_id, data in journal:
            args += (stream_id, data)
        for op in ops:
            key = op[1]
            slot = index.get(key)
            if slot is None:
                keys.append(key)
                slot = index[key] = len(keys)
            args += (op[0], slot, *op[2:])
        await self._call(self._write, keys, args)

    async def load(self) -> Recovery:
        problems: list[str] = []
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.get(self.keys.snapshot)
                pipe.xrange(self.keys.journal)
                snapshot, entries = await pipe.execute(raise_on_error=False)
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            raise Unavailable(f"{self.name}: {e}") from e
        # A key of the wrong type (someone else's data) is reported and skipped.
        if isinstance(snapshot, ResponseError):
            problems.append(f"{self.keys.snapshot}: skipped ({snapshot})")
            snapshot = None
        if isinstance(entries, ResponseError):
            problems.append(f"{self.keys.journal}: skipped ({entries})")
            entries = []
        return Recovery(snapshot, _entries(entries), problems)

    async def tail(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        # The client's socket timeout (2 s) bounds a blocking read: wait at most 1.5 s;
        # callers loop anyway.
        try:
            found: Any = await self.redis.xread(
                {self.keys.journal: after}, block=min(block_ms, 1500) or None, count=10_000
            )
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            raise Unavailable(f"{self.name}: {e}") from e
        except ResponseError as e:
            # Someone else's data in the key: reported (load() skips it too); wait as a
            # quiet journal would, so a follower's loop does not spin.
            self.problems.report(f"{self.keys.journal}: skipped ({e})")
            await asyncio.sleep(min(block_ms, 1500) / 1000.0)
            return []
        return _entries(found[0][1]) if found else []

    # ------------------------------------------------------------ wallboard servers

    async def _ask(self, what: Awaitable[Any], key: str, *, foreign: Any) -> Any:
        """`what`'s reply; `foreign` (reported) when `key` holds another type or Redis
        refuses the command. Raises Unavailable."""
        try:
            return await what
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            raise Unavailable(f"{self.name}: {e}") from e
        except ResponseError as e:
            self.problems.report(f"{key}: skipped ({e})")
            return foreign

    async def _add(self, key: str, field: bytes, data: bytes, cap: int) -> str:
        try:
            stream_id = await self.redis.xadd(key, {field: data}, maxlen=cap, approximate=True)
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            raise Unavailable(f"{self.name}: {e}") from e
        except ResponseError as e:
            raise StoreError(f"{key}: {e}") from e
        return _text(stream_id)

    async def live(self) -> bytes | None:
        key = self.keys.live
        return _bytes(await self._ask(self.redis.get(key), key, foreign=None))

    async def waiting_calls(self, queue: str, limit: int) -> list[bytes]:
        if limit <= 0:
            return []
        key = self.keys.waiting(queue)
        found = await self._ask(
            self._waiting(keys=[key], args=[self.keys.call(""), limit]), key, foreign=None
        )
        if not found:
            return []
        views, foreign = found
        for call_id in foreign:
            self.problems.report(f"{self.keys.call(_text(call_id))}: skipped (WRONGTYPE)")
        return list(views)

    async def submit(self, command: bytes) -> str:
        return await self._add(self.keys.commands, b"c", command, self.commands_cap)

    async def commands(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        key = self.keys.commands
        if after != "$":
            try:
                stream_order(after)
            except ValueError as e:
                raise StoreError(f"{key}: {after!r} is not a stream id") from e
        block = max(0, min(block_ms, int(BLOCK_S * 1000)))
        read = self.redis.xread({key: after}, block=block or None, count=COMMANDS_BATCH)
        found: Any = await self._ask(read, key, foreign=False)
        if found is False and block > 0:
            # Someone else's data in the key: reported; wait as a quiet stream would, so
            # a caller's loop does not spin.
            await asyncio.sleep(block / 1000.0)
        return _entries(found[0][1], b"c") if found else []

    async def last_command(self) -> str:
        key = self.keys.status
        raw = await self._ask(self.redis.hget(key, LAST_COMMAND), key, foreign=None)
        return parse_last_command(_bytes(raw), key, self.problems)

    async def clock_ms(self) -> int:
        try:
            seconds, micros = await self.redis.time()
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            raise Unavailable(f"{self.name}: {e}") from e
        return int(seconds) * 1000 + int(micros) // 1000

    async def answer(self, command_id: str, result: bytes, ttl_s: int = 60) -> None:
        key = self.keys.answer(command_id)
        await self._ask(self._answer(keys=[key], args=[result, ttl_s]), key, foreign=None)

    async def await_answer(self, command_id: str, timeout_s: float) -> bytes | None:
        key = self.keys.answer(command_id)
        deadline = loop_time() + timeout_s
        while True:
            left = deadline - loop_time()
            if left <= 0:
                # Time is up: one last look without blocking (BLPOP 0 would wait forever).
                return _bytes(await self._ask(self.redis.lpop(key), key, foreign=None))
            # Whole milliseconds: Redis reads the timeout to the millisecond.
            wait = max(0.001, round(min(left, BLOCK_S), 3))
            popped: Any = await self._ask(self.redis.blpop([key], wait), key, foreign=False)
            if popped is False:
                return None
            if popped:
                return _bytes(popped[1])

    async def audit(self, entry: bytes) -> str:
        return await self._add(self.keys.audit, b"a", entry, self.audit_cap)

    async def audit_tail(self, count: int) -> list[tuple[str, bytes]]:
        if count <= 0:
            return []
        key = self.keys.audit
        raw: Any = await self._ask(self.redis.xrevrange(key, count=count), key, foreign=[])
        return _entries(raw, b"a")

    async def close(self) -> None:
        await self.redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: bytes | str | None) -> bytes | None:
    """A reply as bytes (the client replies bytes; redis-py's types allow str too)."""
    return value.encode() if isinstance(value, str) else value


def _entries(raw: Any, field: bytes = b"e") -> list[tuple[str, bytes]]:
    """Stream entries as (id, `field`); an entry without it gives b"" (which then fails
    to decode and is reported with its id)."""
    out: list[tuple[str, bytes]] = []
    for stream_id, fields in raw:
        out.append((_text(stream_id), (fields or {}).get(field, b"")))
    return out
