"""Routing with the state kept in Redis, against the in-memory store and no store at all,
in one run; then recovery of a 5,000-waiting-call state from Redis.

    python benchmarks/redis_state.py [--cycles N] [--batch K] [--seed S] [--runs R]

1. Routing: the workload of benchmarks/routing.py (400 agents, 10 skills, a surge
   steady state: every cycle an agent hangs up, takes the next caller, answers, and a
   new caller joins a queue and finds nobody free). The engine is driven as the live
   controller drives it: `handle(event, now)`, then `writer.record(event, now)`, then
   `engine.next_deadline()`, in one asyncio loop (uvloop if installed) that yields to
   the loop every K events, as a busy live loop handles a batch of ARI events per
   turn, so the writer's once-per-turn writes run between batches. Three set-ups:
   no store (the baseline), `MemoryStore` + `StateWriter`, and `RedisStore` (a real
   redis-server this benchmark starts) + `StateWriter`. The timed span ends when the
   writer has written everything (the wait is included). Each set-up runs `--runs`
   times, alternating, and the best run is kept. The goal: Redis costs no more than
   30 % of the in-memory rate.
2. Recovery: 5,000 callers waiting (the agents are all logged out), written through
   `StateWriter` into Redis: a snapshot with 5,000 waiting, then 2,000 journal
   entries after it (1,000 new callers, 1,000 others hanging up). Timed:
   `recover(site, await store.load(), prefix)`, median of 5, split into the load from
   Redis, the snapshot's decode + restore, and the journal's replay. The goal: under
   1 second.
3. Where the time goes: the writes (count, entries and ops per write, bytes), the
   snapshots, CPU of this process and of redis-server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acd.engine import CallState, Engine, decode_state, export_state, restore  # noqa: E402
from acd.engine import commands as cmd  # noqa: E402
from acd.engine import events as ev  # noqa: E402
from acd.store.base import Lease, Op, Recovery, Store  # noqa: E402
from acd.store.memory import MemoryStore  # noqa: E402
from acd.store.records import JOURNAL_ENCODER, SNAPSHOT_DECODER, JournalEntry  # noqa: E402
from acd.store.redis import RedisStore  # noqa: E402
from acd.store.writer import StateWriter, apply, recover, stream_id  # noqa: E402
from benchmarks.routing import build_site  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

GOAL_COST = 0.30
GOAL_RECOVERY_S = 1.0
START = 1_780_000_000.0


class Counting:
    """A store seen through: counts what each write carries (bytes, entries, ops)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.keys = inner.keys
        self.name = inner.name
        self.journal_bytes = 0
        self.ops = 0
        self.op_bytes = 0
        self.snapshot_bytes: list[int] = []

    async def write(self, lease: Lease, journal: list[tuple[str, bytes]], ops: list[Op]) -> None:
        for _id, data in journal:
            self.journal_bytes += len(data)
        self.ops += len(ops)
        snapshot = self.keys.snapshot
        for op in ops:
            value = op[3] if op[0] == "hset" else op[2] if op[0] in ("set", "setex") else None
            if isinstance(value, bytes):
                self.op_bytes += len(value)
                if op[1] == snapshot:
                    self.snapshot_bytes.append(len(value))
        await self.inner.write(lease, journal, ops)

    # The rest of `Store`, passed through as is.

    async def acquire(self, owner: str, ttl_ms: int, *, need_snapshot: bool) -> Lease | None:
        return await self.inner.acquire(owner, ttl_ms, need_snapshot=need_snapshot)

    async def renew(self, lease: Lease) -> None:
        await self.inner.renew(lease)

    async def release(self, lease: Lease) -> None:
        await self.inner.release(lease)

    async def load(self) -> Recovery:
        return await self.inner.load()

    async def tail(self, after: str, block_ms: int) -> list[tuple[str, bytes]]:
        return await self.inner.tail(after, block_ms)

    async def close(self) -> None:
        await self.inner.close()


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def flushed(writer: StateWriter) -> None:
    """Until everything recorded has been written (no write in flight, none due)."""
    while writer._writing or writer._scheduled or writer._journal:
        await asyncio.sleep(0)


def spawner() -> Callable[[Coroutine[Any, Any, None]], object]:
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Coroutine[Any, Any, None]) -> object:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    return spawn


def on_fenced(why: str) -> None:
    raise SystemExit(f"fenced out during the benchmark: {why}")


# ---------------------------------------------------------------------- 1. routing


async def routing_run(
    kind: str, cycles: int, batch: int, seed: int, redis_url: str, redis_pid: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    skills, agents = 10, 400
    site = build_site(agents, skills, rng)
    engine = Engine(site, rng=random.Random(seed))
    now = START
    for agent_id in engine.agents:
        engine.handle(ev.AgentLogin(agent_id=agent_id), now)
    next_call = 0
    # Fill the floor (untimed, not journalled: the writer's start() snapshot holds it).
    talking: list[tuple[str, str]] = []
    for _ in range(agents * 3):
        next_call += 1
        dnis = f"q{rng.randrange(skills)}"
        call = ev.CallArrived(call_id=f"c{next_call}", caller="0101", dnis=dnis)
        for c in engine.handle(call, now):
            if isinstance(c, cmd.RingAgent):
                engine.handle(ev.AgentAnswered(agent_id=c.agent_id, call_id=c.call_id), now)
                talking.append((c.agent_id, c.call_id))
        engine.next_deadline()

    writer: StateWriter | None = None
    counting: Counting | None = None
    if kind != "none":
        name = f"bench-{kind}-{seed}-{time.monotonic_ns()}"
        inner: Store = MemoryStore(name) if kind == "memory" else RedisStore(name, redis_url)
        store = counting = Counting(inner)
        lease = await store.acquire("bench", 30000, need_snapshot=False)
        assert lease is not None
        writer = StateWriter(store, engine, lease, spawn=spawner(), on_fenced=on_fenced)
        await writer.start()

    picks = [rng.randrange(1 << 30) for _ in range(cycles)]
    dnis_picks = [f"q{rng.randrange(skills)}" for _ in range(cycles)]
    decisions = handled = 0
    record = writer.record if writer is not None else None
    handle, next_deadline = engine.handle, engine.next_deadline

    def feed(event: ev.Event) -> list[cmd.Command]:
        out = handle(event, now)
        if record is not None:
            record(event, now)
        next_deadline()
        return out

    gc.collect()
    gc.disable()
    redis_cpu = cpu_of(redis_pid) if kind == "redis" else 0.0
    cpu = time.process_time()
    started = time.perf_counter()
    yield_at = batch
    for i in range(cycles):
        now += 0.01
        slot = picks[i] % len(talking)
        agent_id, call_id = talking[slot]
        feed(ev.AgentHungUp(agent_id=agent_id, call_id=call_id))
        out = feed(ev.TimerFired())  # wrap-up (0 s) ends: the agent takes a call
        handled += 2
        decisions += 1
        taken = None
        for c in out:
            if isinstance(c, cmd.RingAgent):
                taken = c
        if taken is not None:
            feed(ev.AgentAnswered(agent_id=taken.agent_id, call_id=taken.call_id))
            handled += 1
            talking[slot] = (taken.agent_id, taken.call_id)
        else:
            talking[slot] = talking[-1]
            talking.pop()
        next_call += 1
        out = feed(ev.CallArrived(call_id=f"c{next_call}", caller="0101", dnis=dnis_picks[i]))
        handled += 1
        decisions += 1
        for c in out:
            if isinstance(c, cmd.RingAgent):
                feed(ev.AgentAnswered(agent_id=c.agent_id, call_id=c.call_id))
                handled += 1
                talking.append((c.agent_id, c.call_id))
        if handled >= yield_at:  # end of this loop turn's batch of events
            yield_at = handled + batch
            await asyncio.sleep(0)
    fed = time.perf_counter() - started
    if writer is not None:
        await flushed(writer)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    redis_cpu = cpu_of(redis_pid) - redis_cpu if kind == "redis" else 0.0
    gc.enable()

    result: dict[str, Any] = {
        "kind": kind,
        "elapsed": elapsed,
        "fed": fed,
        "decisions": decisions,
        "handled": handled,
        "decisions_per_s": decisions / elapsed,
        "events_per_s": handled / elapsed,
        "cpu": cpu,
        "redis_cpu": redis_cpu,
        "waiting": sum(len(q.waiting) for q in engine.queues.values()),
        "anomalies": sum(engine.anomalies.values()),
    }
    if writer is not None and counting is not None:
        s = writer.stats
        result.update(
            journal=s.journal_entries,
            journal_per_s=s.journal_entries / elapsed,
            writes=s.writes,
            snapshots=s.snapshots,
            write_seconds=s.write_seconds,
            dropped=s.dropped_entries,
            degraded=s.degraded,
            journal_bytes=counting.journal_bytes,
            ops=counting.ops,
            op_bytes=counting.op_bytes,
            snapshot_bytes=counting.snapshot_bytes,
        )
        # What a successor would rebuild from the store equals the live engine?
        rebuilt, _last, problems = recover(site, await counting.load(), counting.keys.prefix)
        live = msgspec.msgpack.encode(export_state(engine))
        same = rebuilt is not None and msgspec.msgpack.encode(export_state(rebuilt)) == live
        result["recovered_same"] = same
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            msgspec.msgpack.encode(export_state(engine))
            times.append(time.perf_counter() - t0)
        result["snapshot_ms"] = statistics.median(times) * 1e3
        result["problems"] = problems
        await writer.stop()
        await counting.close()
    return result


# ---------------------------------------------------------------------- 2. recovery


async def recovery_bench(
    waiting: int, after: int, seed: int, redis_url: str, repeat: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    site = build_site(400, 10, rng)  # nobody logs in: every caller waits
    engine = Engine(site, rng=random.Random(seed), start=START)
    store = RedisStore(f"bench-recovery-{seed}-{time.monotonic_ns()}", redis_url)
    lease = await store.acquire("bench", 30000, need_snapshot=False)
    assert lease is not None
    writer = StateWriter(
        store, engine, lease, spawn=spawner(), on_fenced=on_fenced,
        snapshot_every=waiting, snapshot_seconds=1e9,
    )  # fmt: skip
    await writer.start()
    now = START

    def feed(event: ev.Event) -> None:
        engine.handle(event, now)
        writer.record(event, now)
        engine.next_deadline()

    for i in range(1, waiting + 1):
        now += 0.001
        feed(ev.CallArrived(call_id=f"w{i}", caller="0101", dnis=f"q{rng.randrange(10)}"))
        if i % 50 == 0:
            await asyncio.sleep(0)
    await flushed(writer)  # the write of the last batch carries the snapshot
    writer.snapshot_every = 1 << 60
    for i in range(1, after // 2 + 1):
        now += 0.001
        feed(ev.CallArrived(call_id=f"w{waiting + i}", caller="0101", dnis=f"q{rng.randrange(10)}"))
        feed(ev.CallerHungUp(call_id=f"w{i}"))
        if i % 25 == 0:
            await asyncio.sleep(0)
    await flushed(writer)
    original = msgspec.msgpack.encode(export_state(engine))
    original_waiting = sum(len(q.waiting) for q in engine.queues.values())
    await writer.stop(release=False)

    prefix = store.keys.prefix
    totals: list[float] = []
    loads: list[float] = []
    restores: list[float] = []
    replays: list[float] = []
    rebuilt: Engine | None = None
    loaded: Recovery | None = None
    for _ in range(repeat):
        gc.collect()
        # As a successor does it, in one go.
        t0 = time.perf_counter()
        rebuilt, _last, problems = recover(site, await store.load(), prefix)
        totals.append(time.perf_counter() - t0)
        assert not problems, problems
        # The same, split.
        gc.collect()
        t0 = time.perf_counter()
        loaded = await store.load()
        t1 = time.perf_counter()
        assert loaded.snapshot is not None
        record = SNAPSHOT_DECODER.decode(loaded.snapshot)
        split = restore(site, decode_state(record.state))
        t2 = time.perf_counter()
        entries = [(i, d) for i, d in loaded.journal if stream_id(i) > stream_id(record.last)]
        apply(split, entries, record.last, "journal", [])
        t3 = time.perf_counter()
        loads.append(t1 - t0)
        restores.append(t2 - t1)
        replays.append(t3 - t2)
    assert rebuilt is not None and loaded is not None and loaded.snapshot is not None
    record = SNAPSHOT_DECODER.decode(loaded.snapshot)
    after_snapshot = [i for i, _d in loaded.journal if stream_id(i) > stream_id(record.last)]
    result = {
        "total": statistics.median(totals),
        "load": statistics.median(loads),
        "restore": statistics.median(restores),
        "replay": statistics.median(replays),
        "snapshot_bytes": len(loaded.snapshot),
        "snapshot_waiting": sum(
            1 for c in decode_state(record.state).calls if c.state is CallState.WAITING
        ),
        "journal_after": len(after_snapshot),
        "journal_bytes": sum(len(d) for i, d in loaded.journal),
        "waiting": sum(len(q.waiting) for q in rebuilt.queues.values()),
        "original_waiting": original_waiting,
        "same": msgspec.msgpack.encode(export_state(rebuilt)) == original,
    }
    await store.close()
    return result


# ---------------------------------------------------------------------- where the time goes


def micro() -> dict[str, float]:
    """A journal entry's encoding, measured alone."""
    sample: list[ev.Event] = [
        ev.AgentHungUp(agent_id="10042", call_id="c123456"),
        ev.TimerFired(),
        ev.AgentAnswered(agent_id="10042", call_id="c123457"),
        ev.CallArrived(call_id="c123458", caller="0101", dnis="q3"),
    ] * 5000
    t0 = time.perf_counter()
    for event in sample:
        JOURNAL_ENCODER.encode(JournalEntry(1, START, event))
    encode_us = (time.perf_counter() - t0) / len(sample) * 1e6
    return {"encode_us": encode_us}


# ---------------------------------------------------------------------- report


def pct(x: float) -> str:
    return f"{x * 100:5.1f} %"


async def main_async(args: argparse.Namespace) -> None:
    server = RedisServer()
    try:
        assert server.proc is not None
        pid = server.proc.pid
        loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
        print(
            f"routing with state kept: 400 agents / 10 skills, {args.cycles:,} cycles, "
            f"a loop turn every {args.batch} events, {loop_name} loop, "
            f"redis-server {server.url}, best of {args.runs}"
        )
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.runs):
            for kind in ("none", "memory", "redis"):
                r = await routing_run(kind, args.cycles, args.batch, args.seed, server.url, pid)
                if kind not in best or r["decisions_per_s"] > best[kind]["decisions_per_s"]:
                    best[kind] = r
        print()
        print(
            f"{'store':<8}{'decisions/s':>13}{'events/s':>12}{'journal ev/s':>14}"
            f"{'us/event':>10}{'wall s':>8}{'flush ms':>10}{'CPU s':>7}{'redis CPU s':>13}"
        )
        for kind in ("none", "memory", "redis"):
            r = best[kind]
            journal = f"{r['journal_per_s']:>14,.0f}" if "journal" in r else f"{'-':>14}"
            redis_cpu = f"{r['redis_cpu']:>13.2f}" if kind == "redis" else f"{'-':>13}"
            print(
                f"{kind:<8}{r['decisions_per_s']:>13,.0f}{r['events_per_s']:>12,.0f}{journal}"
                f"{1e6 / r['events_per_s']:>10.2f}{r['elapsed']:>8.2f}"
                f"{(r['elapsed'] - r['fed']) * 1e3:>10.1f}{r['cpu']:>7.2f}{redis_cpu}"
            )
        none, mem, red = best["none"], best["memory"], best["redis"]
        cost_mem = 1 - red["decisions_per_s"] / mem["decisions_per_s"]
        cost_none = 1 - red["decisions_per_s"] / none["decisions_per_s"]
        cost_mem_only = 1 - mem["decisions_per_s"] / none["decisions_per_s"]
        print()
        print(f"memory store costs {pct(cost_mem_only)} of the no-store rate")
        print(
            f"Redis costs       {pct(cost_mem)} of the memory-store rate "
            f"(goal <= {GOAL_COST * 100:.0f} %: {'met' if cost_mem <= GOAL_COST else 'NOT met'})"
        )
        print(f"Redis costs       {pct(cost_none)} of the no-store rate")
        # MemoryStore.write has no await: its write_seconds is CPU spent in it, on the
        # loop. Without it, what is left is the writer's own cost (journal, projection,
        # snapshots), the rate of a store whose write() cost nothing.
        mem_bare = mem["decisions"] / (mem["elapsed"] - mem["write_seconds"])
        cost_bare = 1 - red["decisions_per_s"] / mem_bare
        print(
            f"memory store's write() took {mem['write_seconds']:.2f} s of its "
            f"{mem['elapsed']:.2f} s; without it: {mem_bare:,.0f} decisions/s, against which "
            f"Redis costs {pct(cost_bare)} "
            f"(goal {'met' if cost_bare <= GOAL_COST else 'NOT met'})"
        )
        for kind in ("memory", "redis"):
            r = best[kind]
            print(
                f"{kind}: journal {r['journal']:,} of {r['handled']:,} events written "
                f"({r['dropped']} dropped, degraded {r['degraded']}); state rebuilt from the "
                f"store == live engine: {r['recovered_same']}"
                + (f"; problems {r['problems']}" if r["problems"] else "")
            )

        print("\nwhere the time goes (best runs):")
        m = micro()
        print(f"  journal entry encoding alone: {m['encode_us']:.2f} us/entry")
        for kind in ("memory", "redis"):
            r = best[kind]
            overhead = 1e6 / r["events_per_s"] - 1e6 / none["events_per_s"]
            snaps = r["snapshot_bytes"]
            print(
                f"  {kind}: +{overhead:.2f} us/event over no store; "
                f"{r['writes']:,} writes ({r['writes'] / r['elapsed']:,.0f}/s), "
                f"{r['journal'] / max(r['writes'], 1):.1f} journal entries and "
                f"{r['ops'] / max(r['writes'], 1):.1f} read-model ops per write; "
                f"{r['journal_bytes'] / max(r['journal'], 1):.1f} bytes/journal entry, "
                f"{r['op_bytes'] / max(r['writes'], 1) / 1024:.1f} KiB of read-model values "
                f"per write\n"
                f"      store.write {r['write_seconds']:.2f} s of {r['elapsed']:.2f} s wall "
                f"({pct(r['write_seconds'] / r['elapsed'])}; "
                + (
                    "wall time awaiting Redis, overlaps routing"
                    if kind == "redis"
                    else "synchronous: CPU on the loop"
                )
                + f"); {r['snapshots']} snapshots of "
                f"{(statistics.mean(snaps) if snaps else 0) / 1024:.0f} KiB "
                f"({r['snapshot_ms']:.1f} ms each to export + encode); "
                f"process CPU {r['cpu']:.2f} s vs {none['cpu']:.2f} s without a store"
                + (
                    f"; redis-server CPU {r['redis_cpu']:.2f} s "
                    f"({pct(r['redis_cpu'] / r['elapsed'])} of one core)"
                    if kind == "redis"
                    else ""
                )
            )

        print(
            f"\nrecovery: {args.waiting:,} callers waiting, snapshot + "
            f"{args.after:,} journal entries after it, from Redis, median of {args.repeat}"
        )
        rec = await recovery_bench(args.waiting, args.after, args.seed, server.url, args.repeat)
        print(
            f"  recover(site, await store.load(), prefix): {rec['total'] * 1e3:.1f} ms "
            f"(goal < {GOAL_RECOVERY_S:.0f} s: "
            f"{'met' if rec['total'] < GOAL_RECOVERY_S else 'NOT met'})\n"
            f"  split: load from Redis {rec['load'] * 1e3:.1f} ms, snapshot decode + restore "
            f"{rec['restore'] * 1e3:.1f} ms, journal decode + replay {rec['replay'] * 1e3:.1f} ms\n"
            f"  snapshot {rec['snapshot_bytes'] / 1024:.0f} KiB holding "
            f"{rec['snapshot_waiting']:,} waiting callers; {rec['journal_after']:,} journal "
            f"entries after it ({rec['journal_bytes'] / 1024:.0f} KiB)\n"
            f"  recovered engine: {rec['waiting']:,} callers waiting "
            f"(live engine {rec['original_waiting']:,}); state identical to the live "
            f"engine's: {rec['same']}"
        )
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=25_000)
    parser.add_argument("--batch", type=int, default=50, help="events per loop turn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="runs per set-up; best kept")
    parser.add_argument("--waiting", type=int, default=5_000)
    parser.add_argument("--after", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_async(args))
    else:
        uvloop.run(main_async(args))


if __name__ == "__main__":
    main()
