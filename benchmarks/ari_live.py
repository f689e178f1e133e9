"""Live speed: new calls per second through the virtual PBX and `acd serve`.

    python benchmarks/ari_live.py [--rates 50,100,150,200,250] [--seconds 10] [--agents 800]
                                  [--redis] [--profile]

For each rate, a fresh `acd serve` process (uvloop, its own core) drives the virtual
PBX running in this process (uvloop, the other core) over ARI on 127.0.0.1. Callers
arrive evenly at the rate for `--seconds`, press 1 at the menu, wait, talk 2 s with
an agent who answers in 0.2 s, and the agent hangs up. Real time (speed 1): the
latencies are wall milliseconds.

Prints per rate:
- calls placed, answered, failed (a caller not bridged to an agent, or ended
  without an outcome of "answered");
- StasisStart -> first REST answered, measured in the controller (median, p99);
- call placed -> first prompt heard, measured at the caller's side of the PBX: the
  whole round trip (event over the socket, Answer, Play) a caller lives.
The highest rate with no failed call and p99 under 20 ms is the figure to quote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acd.softphone_sim.pbx import VirtualPbx  # noqa: E402
from acd.softphone_sim.pbx.phones import Line, Unmoved  # noqa: E402
from tests.redis_server import RedisServer, free_port  # noqa: E402

SITE = """
site: {{name: bench, utc_offset: "+00:00"}}
skills: {{gen: {{}}}}
pools: {{floor: {{kind: in_house}}}}
queues:
  gen: {{skill: gen, pools: [floor], wrap_up_seconds: 0.5, ring_timeout_seconds: 10}}
ivr:
  entry: menu
  nodes:
    menu: {{kind: menu, prompt: ["sound:menu"], options: {{"1": {{queue: gen}}}}}}
agent_groups:
  - {{count: {agents}, first_id: 10000, pool: floor, skills: [{{skill: gen, level: 3}}]}}
"""


class Caller(Unmoved):
    def __init__(self, clock: object) -> None:
        self.placed = time.perf_counter()
        self.first_media: float | None = None
        self.bridged = False
        self.clock = clock

    def on_media(self, line: Line, media: list[str]) -> None:
        if self.first_media is None:
            self.first_media = time.perf_counter()
        if "sound:menu" in media:
            line.press("1")

    def on_bridged(self, line: Line, others: list[str]) -> None:
        self.bridged = True


class Agent(Unmoved):
    def __init__(self, pbx: VirtualPbx) -> None:
        self.pbx = pbx

    def on_incoming(self, line: Line, caller_id: str) -> None:
        self.pbx.clock.call_later(0.2, lambda: line.answer() if line.up else None)

    def on_bridged(self, line: Line, others: list[str]) -> None:
        self.pbx.clock.call_later(2.0, lambda: line.hang_up() if line.up else None)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def one_rate(
    rate: int,
    seconds: float,
    agents: int,
    config: Path,
    profile: Path | None = None,
    redis_url: str | None = None,
) -> dict[str, float]:
    port = free_port()
    pbx = VirtualPbx(speed=1.0, users={"acd": "bench"}, prompt_seconds_per_sound=1.0)
    for i in range(agents):
        pbx.register(f"PJSIP/agent{10000 + i}", Agent(pbx))
    await pbx.start("127.0.0.1", port)
    stats = Path(tempfile.mkstemp(suffix=".json")[1])
    env = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD="bench")
    python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
    serve = subprocess.Popen(
        [*python, "-m", "acd.cli.main", "serve", str(config),
         "--ari-url", f"http://127.0.0.1:{port}", "--stats-json", str(stats),
         "--log-level", "WARNING", "--seed", "1",
         *(["--redis", redis_url] if redis_url else [])],
        cwd=ROOT, env=env,
    )
    try:
        while not pbx.app_connected:
            await asyncio.sleep(0.05)
        # Log everyone in through the feature code, as phones would.
        for i in range(agents):
            pbx.dial_feature(f"PJSIP/agent{10000 + i}", ["login"], Caller(pbx.clock))
        await asyncio.sleep(2.0)
        callers: list[Caller] = []
        started = time.perf_counter()
        n = int(rate * seconds)
        for k in range(n):
            due = started + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            caller = Caller(pbx.clock)
            callers.append(caller)
            pbx.place_inbound(f"0100000{k:04d}", "120", caller)
        placing = time.perf_counter() - started
        await asyncio.sleep(8.0)  # the last callers get through and finish talking
    finally:
        serve.send_signal(signal.SIGTERM)
        await asyncio.to_thread(serve.wait, 30)
        await pbx.stop()
    report = json.loads(stats.read_text())
    stats.unlink()
    first = report["controller"]["first_command_ms"]
    heard = [(c.first_media - c.placed) * 1000 for c in callers if c.first_media is not None]
    answered = sum(1 for c in callers if c.bridged)
    return {
        "rate": rate,
        "achieved": n / placing,
        "placed": n,
        "answered": answered,
        "outcomes_answered": report["controller"]["outcomes"].get("answered", 0),
        "failed": n - answered,
        "first_median": statistics.median(first) if first else float("nan"),
        "first_p99": pct(first, 0.99),
        "heard_median": statistics.median(heard) if heard else float("nan"),
        "heard_p99": pct(heard, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,150,200,250")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=800)
    parser.add_argument("--redis", action="store_true",
                        help="keep the state in a real redis-server started for the run")
    parser.add_argument("--profile", action="store_true",
                        help="run `acd serve` under cProfile at the last rate; print where "
                        "its time goes")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(SITE.format(agents=args.agents))
        config = Path(f.name)
    run: Callable[[Coroutine[Any, Any, dict[str, float]]], dict[str, float]]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    print(f"{'rate/s':>7} {'achieved':>8} {'placed':>6} {'answered':>8} {'failed':>6} "
          f"{'ctl med ms':>10} {'ctl p99 ms':>10} {'heard med':>9} {'heard p99':>9}")
    best = 0
    rates = [int(r) for r in args.rates.split(",")]
    profile = Path(tempfile.mkstemp(suffix=".prof")[1]) if args.profile else None
    server = None
    if args.redis:
        server = RedisServer()
        print(f"state kept in {server.url}")
    for rate in rates:
        if server is not None:
            server.restart()  # each rate starts from an empty Redis
        r = run(one_rate(rate, args.seconds, args.agents, config,
                         profile if rate == rates[-1] else None,
                         server.url if server is not None else None))
        print(f"{rate:>7} {r['achieved']:>8.1f} {r['placed']:>6} {r['answered']:>8} "
              f"{r['failed']:>6} {r['first_median']:>10.2f} {r['first_p99']:>10.2f} "
              f"{r['heard_median']:>9.2f} {r['heard_p99']:>9.2f}", flush=True)
        if r["failed"] == 0 and r["first_p99"] < 20.0:
            best = rate
    config.unlink()
    if server is not None:
        server.close()
    if profile is not None:
        import pstats

        print(f"\n`acd serve` at {rates[-1]}/s, by own time (cProfile slows it ~2x):")
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(18)
        profile.unlink()
    print(f"\nhighest rate with no failed call and controller p99 < 20 ms: {best or 'none'}/s")


if __name__ == "__main__":
    main()
