"""`acd serve CONFIG --ari-url URL [--app acd]`: run the engine live against Asterisk.

The ARI user and password come from `ACD_ARI_USER` / `ACD_ARI_PASSWORD`, or the
password from `--ari-password-file` (first line); never from the command line in
clear, and never logged. One asyncio loop (uvloop when installed), one root
TaskGroup: the events socket and every call's ARI work are its tasks. SIGINT or
SIGTERM stops it cleanly: callers still in the IVR or waiting are told and handed
back to the dialplan (or hung up, by `live.on_shutdown`), then it exits 0.

`--speed` and `--start` run the engine's clock compressed, for demos and tests
against the virtual PBX (`acd pbx`) running at the same speed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import random
import signal
import sys
from pathlib import Path
from typing import Any

import msgspec

from cli.credentials import ari_credentials
from config.loader import ConfigErrors, load_site
from config.schema import SiteConfig

log = logging.getLogger("acd.serve")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the engine live against Asterisk (ARI)",
        description="Answer calls that enter Stasis(APP) on the Asterisk at --ari-url and "
        "route them. Credentials: ACD_ARI_USER and ACD_ARI_PASSWORD, or "
        "--ari-password-file.",
    )
    p.add_argument("config", help="site configuration (YAML)")
    p.add_argument("--ari-url", required=True, help="Asterisk's HTTP server, e.g. "
                   "http://127.0.0.1:8088")
    p.add_argument("--app", default="acd", help="the Stasis application name (default acd)")
    p.add_argument("--ari-password-file", metavar="FILE",
                   help="read the ARI password from FILE instead of ACD_ARI_PASSWORD")
    p.add_argument("--speed", type=float, default=1.0,
                   help="run the engine's clock X times faster (demos against `acd pbx`)")
    p.add_argument("--start", metavar="HH:MM|YYYY-MM-DDTHH:MM",
                   help="the engine's clock starts at this local time (default: now); "
                   "HH:MM is on the configuration's simulation date")
    p.add_argument("--seed", type=int, help="seed of the engine's random choices")
    p.add_argument("--stats-json", metavar="OUT.json",
                   help="on exit, write the engine's live snapshot and the controller's figures")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(run=run)


def start_time(site: SiteConfig, text: str | None) -> float | None:
    """The epoch time `--start` names in the site's local time, or None (now)."""
    if text is None:
        return None
    from engine.localtime import parse_offset

    offset = parse_offset(site.site.utc_offset)
    try:
        if "T" in text:
            local = datetime.datetime.fromisoformat(text)
        else:
            if site.simulation is None:
                raise ValueError("--start HH:MM needs the configuration's simulation.date")
            day = datetime.date.fromisoformat(site.simulation.date)
            hh, mm = (int(x) for x in text.split(":"))
            local = datetime.datetime.combine(day, datetime.time(hh, mm))
    except ValueError as e:
        raise ValueError(f"--start {text}: {e}") from e
    utc = local.replace(tzinfo=datetime.UTC) - datetime.timedelta(seconds=offset)
    return utc.timestamp()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        site = load_site(args.config)
    except ConfigErrors as errors:
        print(errors, file=sys.stderr)
        return 1
    try:
        user, password = ari_credentials(args.ari_password_file)
        start = start_time(site, args.start)
    except ValueError as e:
        print(f"acd serve: {e}", file=sys.stderr)
        return 1
    if args.speed <= 0:
        print("acd serve: --speed must be above 0", file=sys.stderr)
        return 1
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # uvloop is optional off Linux/macOS
        runner = asyncio.run
    return int(runner(serve(site, args, user, password, start)))


async def serve(
    site: SiteConfig, args: argparse.Namespace, user: str, password: str, start: float | None
) -> int:
    from ari.client import AriClient
    from ari.controller import Clock, Controller
    from engine import Engine

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    clock = Clock(args.speed, start)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 62)
    engine = Engine(site, rng=random.Random(seed), start=clock.now())
    async with AriClient(args.ari_url, user, password, app=args.app) as client:
        async with asyncio.TaskGroup() as tg:
            controller = Controller(site, engine, client, clock, spawn=tg.create_task)
            events = tg.create_task(controller.run())
            log.info(
                "serving site %r as app %r on %s (speed %g)",
                site.site.name, args.app, client.root, args.speed,
            )
            await stop.wait()
            log.info("stopping: handing waiting callers back (%s)", site.live.on_shutdown)
            await controller.shutdown()
            events.cancel()
        log.info(
            "stopped: %d calls, %d handed back, outcomes %s",
            controller.stats.calls, controller.stats.handed_back, controller.stats.outcomes,
        )
        if args.stats_json:
            report = {
                "controller": controller.stats,
                "client": client.counters,
                "engine": engine.snapshot(clock.now()),
            }
            Path(args.stats_json).write_bytes(
                msgspec.json.format(msgspec.json.encode(report), indent=2)
            )
    return 0
