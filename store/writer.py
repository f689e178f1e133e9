"""Writing the state as the engine runs, and reading it back to carry on.

`StateWriter` (the active engine): every handled event is appended to the journal
(`record`); once per loop turn everything recorded since the last write goes to the
store in one fenced write, with the read-model changes and, every `snapshot_every`
events or `snapshot_seconds`, a snapshot (which trims the journal before it). A
supervisor command the engine applied (`command_done`) has its id written to the status
hash in the same write as the journal entry of the event it became, so a successor
neither applies it again nor misses one that was not applied (store/base.py). One
write is in flight at a time; events keep coming meanwhile and go in the next one,
so store round trips never hold up routing.

If the store cannot be reached (a Redis restart), the engine keeps routing from
memory: journal entries are dropped (the next snapshot covers them), and when the
store answers again the writer renews or re-takes the lease, writes a full snapshot
and rewrites the read model, and says so. If the lease turns out to be someone
else's, `on_fenced` is called: the engine must step down.

`recover` and `Follower` (a restarted or standby engine): the last snapshot plus the
journal after it, replayed as the live driver fed them, rebuild the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from acd.config.schema import SiteConfig
from acd.engine import Engine, StateMismatch, decode_state, export_state, replay, restore
from acd.engine import events as ev
from acd.store.base import (
    Fenced,
    Lease,
    Op,
    Recovery,
    StateStore,
    StoreError,
    Unavailable,
    loop_time,
)
from acd.store.keys import LAST_COMMAND
from acd.store.projection import Projection
from acd.store.records import (
    JOURNAL_DECODER,
    JOURNAL_ENCODER,
    SNAPSHOT_DECODER,
    JournalEntry,
    SnapshotRecord,
    decode_or_report,
)

log = logging.getLogger("acd.store")


def stream_id(value: str) -> tuple[int, int]:
    epoch, _, n = value.partition("-")
    return int(epoch), int(n or 0)


class WriterStats(msgspec.Struct):
    journal_entries: int = 0
    writes: int = 0
    snapshots: int = 0
    rewrites: int = 0
    """Full rewrites after the store came back."""
    dropped_entries: int = 0
    """Journal entries not written while the store was unreachable."""
    unavailable: int = 0
    degraded: bool = False
    write_seconds: float = 0.0


class StateWriter:
    def __init__(
        self,
        store: StateStore,
        engine: Engine,
        lease: Lease,
        *,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        on_fenced: Callable[[str], None],
        snapshot_every: int = 20_000,
        snapshot_seconds: float = 60.0,
        ended_ttl: int = 3600,
        speed: float = 1.0,
    ) -> None:
        """`speed`: how fast the engine's clock runs against the wall (`acd serve
        --speed`), for readers of the live snapshot."""
        self.store = store
        self.engine = engine
        self.lease = lease
        self.projection = Projection(store.keys, engine, ended_ttl=ended_ttl, speed=speed)
        self.stats = WriterStats()
        self.snapshot_every = snapshot_every
        self.snapshot_seconds = snapshot_seconds
        self._spawn = spawn
        self._on_fenced = on_fenced
        self._n = 0
        self._journal: list[tuple[str, bytes]] = []
        self._since_snapshot = 0
        self._snapshot_at = loop_time()
        """When the last snapshot was taken, on the loop's clock (`snapshot_seconds`)."""
        self._scheduled = False
        self._writing = False
        self._stopped = False
        self._confirming: asyncio.Future[bool] | None = None
        self._idle = asyncio.Event()
        """Set while no write is in flight."""
        self._idle.set()
        self._lost_views: list[Op] = []
        """Ended calls' expiring views from writes that failed (for the rewrite)."""
        self.last_command = ""
        """The last supervisor command applied by this engine ("": none yet)."""
        self._command_due = False
        """`last_command` is not yet in a write."""

    # ------------------------------------------------------------------ the journal

    def record(self, event: ev.Event, now: float) -> None:
        """The engine has just handled `event` at `now`: journal it."""
        if self._stopped:
            return
        self._since_snapshot += 1
        if self.stats.degraded:
            self.stats.dropped_entries += 1
        else:
            self._n += 1
            entry = JournalEntry(self.lease.epoch, now, event)
            self._journal.append((f"{self.lease.epoch}-{self._n}", JOURNAL_ENCODER.encode(entry)))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._turn_over)

    def command_done(self, command_id: str) -> None:
        """The engine has applied supervisor command `command_id` (`Store.commands`), or
        refused it for good (expired, invalid): its id goes to the status hash
        (`keys.LAST_COMMAND`) in the next write, the one that carries the journal
        entries recorded so far. Call it right after `record`ing the event the command
        became, in the same loop turn, so the two are written together. Snapshots and
        the rewrite after an outage carry it again."""
        if self._stopped:
            return
        self.last_command = command_id
        self._command_due = True
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._turn_over)

    def _turn_over(self) -> None:
        self._scheduled = False
        if not self._writing and not self.stats.degraded and not self._stopped:
            self._writing = True
            self._idle.clear()
            self._spawn(self._drain())

    async def _drain(self) -> None:
        try:
            while (
                self._journal
                or self._command_due
                or self.engine.has_changes
            ):
                journal, ops = self._take()
                started = time.perf_counter()  # a cost statistic: wall time on purpose
                try:
                    await self.store.write(self.lease, journal, ops)
                except Fenced as e:  # first: Fenced is a StoreError too
                    self._fenced(str(e))
                    return
                except (Unavailable, StoreError) as e:
                    # StoreError: the store refused the write (foreign data in our
                    # keys): as for an outage, a full rewrite will set it straight.
                    # It rewrites what is live; the expiring views of calls that
                    # ended are only in this batch: keep them for it.
                    self._lost_views += [op for op in ops if op[0] == "setex"]
                    self._degrade(e, len(journal))
                    return
                self.stats.writes += 1
                self.stats.journal_entries += len(journal)
                self.stats.write_seconds += time.perf_counter() - started
        finally:
            self._writing = False
            self._idle.set()

    def _take(self) -> tuple[list[tuple[str, bytes]], list[Op]]:
        """Everything to write now, taken at once (no await), so a snapshot in it is
        exactly the state after its last journal entry."""
        journal, self._journal = self._journal, []
        if journal:
            self.projection.touched()
        ops = self.projection.changes()
        if self._command_due:
            self._command_due = False
            ops.append(("hset", self.store.keys.status, LAST_COMMAND, self.last_command))
        due = self._since_snapshot >= self.snapshot_every or (
            loop_time() - self._snapshot_at >= self.snapshot_seconds
        )
        if due:
            ops += self.snapshot_ops()
        return journal, ops

    def snapshot_ops(self) -> list[Op]:
        epoch = self.lease.epoch
        record = SnapshotRecord(
            epoch=epoch,
            last=f"{epoch}-{self._n}",
            taken_at=self.engine.now,
            state=msgspec.Raw(msgspec.msgpack.encode(export_state(self.engine))),
        )
        self._since_snapshot = 0
        self._snapshot_at = loop_time()
        self.stats.snapshots += 1
        keys = self.store.keys
        ops: list[Op] = [
            ("set", keys.snapshot, msgspec.msgpack.encode(record)),
            ("trim", keys.journal, f"{epoch}-{self._n + 1}"),
            ("hset", keys.status, "epoch", epoch),
            ("hset", keys.status, "owner", self.lease.owner),
        ]
        if self.last_command:
            # Again with the state that holds its effect: the write that first carried
            # it may have been lost to an outage (the rewrite after it comes here).
            ops.append(("hset", keys.status, LAST_COMMAND, self.last_command))
        return ops

    async def start(self) -> None:
        """On taking the lease: a snapshot of the state we carry on from and the whole
        read model, so the store and its readers start from what this engine holds."""
        # The snapshot holds everything the journal said: start it afresh (which also
        # clears entries someone else put there).
        ops = [("del", self.store.keys.journal), *self.snapshot_ops()]
        ops = [op for op in ops if op[0] != "trim"] + self.projection.everything()
        await self.store.write(self.lease, [], ops + self._lost_views)
        self._lost_views = []
        self.stats.writes += 1

    # ------------------------------------------------------------------ the lease

    def may_act(self) -> bool:
        """May the engine act on the PBX now? Yes while the lease is surely ours; also
        while the store is unreachable (no one else can take the lease then, and a
        call centre must not stop because Redis restarts)."""
        return not self._stopped and (self.lease.fresh() or self.stats.degraded)

    async def confirm(self) -> bool:
        """Renew now (after a pause, say): True if the lease is still ours."""
        if self._confirming is None or self._confirming.done():
            self._confirming = asyncio.get_running_loop().create_future()
            self._spawn(self._renew_once(self._confirming))
        return await asyncio.shield(self._confirming)

    async def _renew_once(self, done: asyncio.Future[bool]) -> None:
        try:
            await self.store.renew(self.lease)
            done.set_result(True)
        except Fenced as e:
            self._fenced(str(e))
            done.set_result(False)
        except Unavailable as e:
            self._degrade(e, 0)
            done.set_result(True)

    async def keep(self) -> None:
        """Renew the lease every third of its time to live until stopped; bring the
        store back up to date when it answers again after an outage."""
        period = self.lease.ttl_ms / 3000.0
        while not self._stopped:
            await asyncio.sleep(period)
            if self._stopped:
                return
            try:
                if self.stats.degraded:
                    await self._come_back()
                else:
                    await self.store.renew(self.lease)
                    if not self._writing and self.projection.figures_due():
                        # A quiet floor: the figures and the live snapshot still catch
                        # up with the engine (when their intervals allow).
                        ops = self.projection.catch_up()
                        if ops:
                            await self.store.write(self.lease, [], ops)
            except Fenced as e:  # first: Fenced is a StoreError too
                self._fenced(str(e))
            except (Unavailable, StoreError) as e:
                self._degrade(e, 0)

    async def _come_back(self) -> None:
        try:
            await self.store.renew(self.lease)
        except Fenced:
            # A restarted Redis forgot the lease: take it again if it is free. If
            # someone else holds it, they carry on and we step down.
            lease = await self.store.acquire(
                self.lease.owner, self.lease.ttl_ms, need_snapshot=False
            )
            if lease is None:
                raise
            self.lease = lease
            self._n = 0
        await self.start()
        self.stats.degraded = False
        self.stats.rewrites += 1
        log.warning(
            "store %s answers again: snapshot and read model rewritten (epoch %d, %d journal "
            "entries were not written meanwhile)",
            self.store.name, self.lease.epoch, self.stats.dropped_entries,
        )
        self._turn_over()

    def _degrade(self, error: Exception, lost: int) -> None:
        self.stats.unavailable += 1
        self.stats.dropped_entries += lost
        if not self.stats.degraded:
            self.stats.degraded = True
            log.error("store unreachable (%s): routing goes on from memory", error)

    def _fenced(self, why: str) -> None:
        if not self._stopped:
            self._stopped = True
            log.error("fenced out (%s): stepping down", why)
            self._on_fenced(why)

    async def stop(self, release: bool = True) -> None:
        """Write what is left and give the lease up (a clean shutdown)."""
        if self._stopped:
            return
        await self._idle.wait()
        if not self.stats.degraded:
            self._writing = True
            await self._drain()
        self._stopped = True
        if release and not self.stats.degraded:
            with contextlib.suppress(Unavailable):
                await self.store.release(self.lease)


# ---------------------------------------------------------------------- reading back


def recover(site: SiteConfig, recovery: Recovery, keys_name: str) -> tuple[
    Engine | None, str, list[str]
]:
    """(the engine rebuilt from the snapshot and the journal after it, the last
    journal id applied, problems reported). None when there is no usable snapshot."""
    problems: list[str] = list(recovery.problems)
    if recovery.snapshot is None:
        return None, "0-0", problems
    record = decode_or_report(SNAPSHOT_DECODER, recovery.snapshot, f"{keys_name}snapshot", problems)
    if record is None:
        return None, "0-0", problems
    try:
        stream_id(record.last)
    except ValueError:
        problems.append(f"{keys_name}snapshot: its last journal id {record.last!r} is not a "
                        "stream id; the snapshot is not used")
        return None, "0-0", problems
    try:
        engine = restore(site, decode_state(record.state))
    except StateMismatch as e:
        problems.append(f"{keys_name}snapshot: {e}")
        return None, "0-0", problems
    except msgspec.DecodeError as e:
        problems.append(f"{keys_name}snapshot: undecodable state skipped ({e})")
        return None, "0-0", problems
    last = record.last
    entries = [(i, d) for i, d in recovery.journal if stream_id(i) > stream_id(last)]
    last = apply(engine, entries, last, f"{keys_name}journal", problems)
    return engine, last, problems


def apply(
    engine: Engine, entries: list[tuple[str, bytes]], last: str, key: str, problems: list[str]
) -> str:
    """Replay journal entries into `engine`; the id of the last one."""
    decoded: list[tuple[ev.Event, float]] = []
    for entry_id, data in entries:
        entry = decode_or_report(JOURNAL_DECODER, data, f"{key} {entry_id}", problems)
        if entry is not None:
            decoded.append((entry.event, entry.now))
        last = entry_id
    replay(engine, decoded)
    return last


class Follower:
    """A standby's copy of the engine, kept up to date from the journal."""

    def __init__(self, site: SiteConfig, store: StateStore) -> None:
        self.site = site
        self.store = store
        self.engine: Engine | None = None
        self.last = "0-0"
        self.problems: list[str] = []
        self.applied = 0

    async def load(self) -> None:
        engine, last, problems = recover(self.site, await self.store.load(), self.store.keys.prefix)
        self.engine, self.last = engine, last
        self.problems += problems

    async def catch_up(self, block_ms: int) -> int:
        """Apply the journal entries written since; reload from the snapshot when the
        journal skipped (a new epoch, or trimmed past us). Returns entries applied."""
        if self.engine is None:
            await self.load()
            if self.engine is None:
                if block_ms:
                    await asyncio.sleep(block_ms / 1000.0)
                return 0
        entries = await self.store.tail(self.last, block_ms)
        if not entries:
            return 0
        epoch, n = stream_id(self.last)
        first_epoch, first_n = stream_id(entries[0][0])
        if (first_epoch, first_n) != (epoch, n + 1):
            await self.load()
            return 0
        self.last = apply(self.engine, entries, self.last, self.store.keys.journal, self.problems)
        self.applied += len(entries)
        return len(entries)
