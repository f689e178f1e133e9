"""`acd demo [CONFIG] [--curve CURVE] [--start HH:MM] [--minutes N] [--speed X]
[--listen HOST:PORT] [--seed N]`: a live centre on this machine, nothing installed.

One process, one asyncio loop: the virtual PBX (`acd pbx`'s, speaking ARI over real
sockets on 127.0.0.1) with the site's simulated callers and agents, the engine behind
the real ARI controller, and the wallboard. By default it plays the 80,000-calls surge
day's 09:00 hour of the Seoul 120 site ten times faster than the wall clock, and
prints the wallboard's address with a supervisor token in its `#fragment` (the page
logs in with it; a fragment never reaches the server or its logs). Tokens are made
afresh for each run unless ACD_WEB_VIEWER_TOKEN / ACD_WEB_SUPERVISOR_TOKEN or
`--web-tokens` give them. When the hour is over the floor stays up until Ctrl-C.

Exit status: 0 after Ctrl-C (SIGINT) or SIGTERM; 1 when the configuration, the curve
or the address is refused (one line naming it); 2 for a flag argparse refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

from acd.cli.commands import help_of
from acd.cli.options import listen_address, local_minute
from acd.cli.simulate import load_day

PACKAGED = Path(__file__).resolve().parent.parent / "config"
DEFAULT_CONFIG = PACKAGED / "seoul120.yaml"
DEFAULT_CURVE = PACKAGED / "curves" / "surge-stage2-80k.csv"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo", help=help_of("demo"),
        description="A live centre in one command: the virtual PBX with simulated callers "
        "and agents, the engine and the wallboard, in compressed time.",
        epilog="Exit status: 0 stopped by Ctrl-C (SIGINT) or SIGTERM; 1 a configuration, a "
        "curve, tokens or an address refused (one line on stderr names it); 2 a command line "
        "argparse refuses.",
    )
    p.add_argument("config", nargs="?", default=str(DEFAULT_CONFIG),
                   help="site configuration with a simulation: section (default: the "
                   "packaged Seoul 120 site)")
    p.add_argument("--curve", default=str(DEFAULT_CURVE),
                   help="surge curve (default: the packaged 80,000-calls day)")
    p.add_argument("--start", default="09:00", metavar="HH:MM",
                   help="local time of the curve to start at (default 09:00)")
    p.add_argument("--minutes", type=int, default=60,
                   help="how much of the curve to play (default 60)")
    p.add_argument("--speed", type=float, default=10.0,
                   help="how many times faster than the wall clock (default 10)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="where the wallboard listens (default 127.0.0.1:8080; :0 picks a port)")
    p.add_argument("--web-tokens", metavar="FILE",
                   help="the wallboard's tokens (`ROLE NAME TOKEN` lines) instead of new ones")
    p.add_argument("--seed", type=int, default=1, help="seed of the people and the engine")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from acd.web.auth import TokenError, Tokens, load_tokens

    try:
        host, port = listen_address(args.listen, "--listen", 8080)
        try:
            start_minute = local_minute(args.start)
        except ValueError as error:
            raise ValueError(f"--start: {error}") from None
        if not 0 < args.speed <= 100:
            raise ValueError(f"--speed: expected more than 0 and at most 100, got {args.speed}")
        if not 0 < args.minutes <= 24 * 60 - start_minute:
            raise ValueError(f"--minutes: expected 1 to {24 * 60 - start_minute} "
                             f"(from {args.start} to the end of the day), got {args.minutes}")
        tokens = load_tokens(args.web_tokens)
    except (ValueError, TokenError) as error:
        print(f"acd demo: {error}", file=sys.stderr)
        return 1
    loaded = load_day(args.config, args.curve)
    if loaded is None:
        return 1
    supervisor = ""
    if not tokens:
        supervisor = secrets.token_urlsafe(24)
        tokens = Tokens([("supervisor", "demo-supervisor", supervisor),
                         ("viewer", "demo-viewer", secrets.token_urlsafe(24))])
    site, curve = loaded
    try:
        import uvloop

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(demo(site, curve, args, host, port, tokens, start_minute, supervisor))


async def demo(site: Any, curve: Any, args: argparse.Namespace, host: str, port: int,
               tokens: Any, start_minute: int, supervisor: str) -> int:
    from acd.ari.client import AriClient
    from acd.ari.clock import Clock
    from acd.ari.controller import Controller
    from acd.cli.web_options import serve_web
    from acd.engine import Engine
    from acd.softphone_sim.pbx import VirtualPbx
    from acd.softphone_sim.pbx.population import Population
    from acd.softphone_sim.people import day_start
    from acd.store.memory import MemoryStore
    from acd.web.app import Web
    from acd.web.sources import EngineSource

    assert site.simulation is not None  # load_day checked it
    start = day_start(site) + start_minute * 60.0
    password = secrets.token_urlsafe(16)
    pbx = VirtualPbx(app="acd", speed=args.speed, start=start, users={"acd": password},
                     prompt_seconds_per_sound=site.simulation.prompt_seconds_per_sound)
    population = Population(site, curve, pbx, seed=args.seed, start_minute=start_minute,
                            duration_minutes=args.minutes)
    stop = asyncio.Event()
    population.on_done = lambda: print(
        "the curve's window is over; the wallboard stays up until Ctrl-C", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failed: list[str] = []
    ari_port = await pbx.start("127.0.0.1", 0)
    store = MemoryStore(site.site.name)
    try:
        async with (
            AriClient(f"http://127.0.0.1:{ari_port}", "acd", password) as client,
            asyncio.TaskGroup() as tg,
        ):
            clock = Clock(args.speed, start)
            engine = Engine(site, rng=random.Random(args.seed), start=clock.now())
            controller = Controller(site, engine, client, clock, spawn=tg.create_task,
                                    sync_clock=True)
            events = tg.create_task(controller.run())
            while client.counters.connects == 0 and not stop.is_set():
                await asyncio.sleep(0.05)
            pbx.clock.restart(start)
            population.start()
            web = Web(site, tokens, EngineSource(engine, clock.now, controller.feed, store,
                                                 args.speed))

            def ready(url: str) -> None:
                print(f"wallboard: {url}" + (f"#token={supervisor}" if supervisor else ""),
                      flush=True)
                print(f"playing {args.curve} from {args.start} for {args.minutes} minutes at "
                      f"{args.speed:g}x; Ctrl-C stops", flush=True)

            web_task = tg.create_task(
                serve_web(web, (host, port), "--listen", failed, stop, ready)
            )
            await stop.wait()
            web_task.cancel()
            events.cancel()
            controller.step_down()
    finally:
        with contextlib.suppress(Exception):
            await pbx.stop()
        await store.close()
    if failed:
        print(f"acd demo: {failed[0]}", file=sys.stderr)
        return 1
    print(f"stopped: {controller.stats.calls} calls, outcomes {dict(controller.stats.outcomes)}")
    return 0
