"""`acd serve CONFIG --ari-url URL [--app acd]`: run the engine live against Asterisk.

The ARI user and password come from `ACD_ARI_USER` / `ACD_ARI_PASSWORD`, or the
password from `--ari-password-file` (first line); never from the command line in
clear, and never logged. One asyncio loop (uvloop when installed), one root
TaskGroup: the events socket and every call's ARI work are its tasks. SIGINT or
SIGTERM stops it cleanly: callers still in the IVR or waiting are told and handed
back to the dialplan (or hung up, by `live.on_shutdown`), then it exits 0. The
handlers are in place before its first line of its own (loggers `acd.*`), so whoever
has read one (`serving site ...`; `ARI events: cannot connect ...` while Asterisk is
not there yet) may signal it and get that clean stop.

`--redis URL` keeps the queue state in Redis (store/): the engine first takes the
site's lease and carries on from the stored snapshot and journal, if any; with
`--standby` it follows the journal and takes over when the lease lapses. Exit 3:
another engine holds the lease now (this one was fenced out and stepped down).

Exit 1, with one line naming the flag, for what no retry can mend: a bad flag value
(checked before anything starts: `--ari-url`, `--standby` without `--redis`,
`--lease-ms`, `--snapshot-every`, a `--stats-json` that cannot be written), or an
Asterisk that refuses the credentials (401/403 on the events socket, or 401 on any
call once running), a user without write access (`read_only = yes` in ari.conf:
checked on every connection, before the first caller), or a server without ARI
events at `--ari-url` (404). A refused connection is retried (Asterisk may be
starting).

`--speed` and `--start` run the engine's clock compressed, for demos and tests
against the virtual PBX (`acd pbx`) running at the same speed (`--start pbx` takes
the PBX's clock, which keeps a restarted engine in step with it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import logging
import os
import random
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any

import msgspec

from acd.cli.commands import help_of
from acd.cli.log_times import FORMAT, stamp_with
from acd.cli.options import (
    ari_credentials,
    check_output,
    listen_address,
    local_minute,
    write_output,
)
from acd.config.loader import ConfigErrors, load_site
from acd.config.schema import SiteConfig
from acd.engine import parse_offset

if TYPE_CHECKING:
    from collections.abc import Callable

    from acd.ari.client import AriError
    from acd.ari.clock import Clock
    from acd.engine import Engine
    from acd.engine.events import Event
    from acd.store.base import Lease, Store

log = logging.getLogger("acd.serve")

LEASE_MS = (300, 600_000)
"""The `--lease-ms` range: renewed every third of it, a lease under 300 ms would be
renewed faster than a loaded store answers; over 10 minutes, a standby would leave
callers unserved that long after the active engine dies."""

EXIT_STATUS = (
    "Exit status: 0 stopped by SIGINT or SIGTERM; 1 bad input or a failure, named in one "
    "line on stderr (a configuration, a flag's value or a --stats-json path refused before "
    "starting, a store that cannot be reached, credentials Asterisk refuses, no ARI events "
    "at --ari-url); 2 a command line argparse refuses; 3 stepped down: another engine "
    "holds the site's lease."
)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help=help_of("serve"),
        description="Answer calls that enter Stasis(APP) on the Asterisk at --ari-url and "
        "route them. Credentials: ACD_ARI_USER and ACD_ARI_PASSWORD, or "
        "--ari-password-file.",
        epilog=EXIT_STATUS,
    )
    p.add_argument("config", help="site configuration (YAML)")
    p.add_argument("--ari-url", required=True, help="Asterisk's HTTP server, e.g. "
                   "http://127.0.0.1:8088")
    p.add_argument("--app", default="acd", help="the Stasis application name (default acd)")
    p.add_argument(
        "--ari-rest", choices=("auto", "http"), default="auto",
        help="auto (default): REST requests go over the events WebSocket when Asterisk "
        "takes them there (22 and newer), else HTTP; http: always HTTP",
    )
    p.add_argument("--ari-password-file", metavar="FILE",
                   help="read the ARI password from FILE instead of ACD_ARI_PASSWORD")
    p.add_argument("--speed", type=float, default=1.0,
                   help="run the engine's clock X times faster (demos against `acd pbx`)")
    p.add_argument("--start", metavar="HH:MM|YYYY-MM-DDTHH:MM|pbx",
                   help="the engine's clock starts at this local time (default: now); "
                   "HH:MM is on the configuration's simulation date; `pbx` takes the PBX's "
                   "time (GET /asterisk/ping) on every connection")
    p.add_argument("--redis", metavar="URL",
                   help="keep the queue state in Redis: redis://, rediss:// or "
                   "redis+sentinel://host:port/service (default: in this process's memory)")
    p.add_argument("--standby", action="store_true",
                   help="follow the journal and take over when the active engine's lease lapses")
    p.add_argument("--lease-ms", type=int, default=3000,
                   help=f"lease time to live, {LEASE_MS[0]} to {LEASE_MS[1]} ms (renewed "
                   "every third of it; default 3000)")
    p.add_argument("--snapshot-every", type=int, default=20_000, metavar="EVENTS",
                   help="write a snapshot (and trim the journal) every so many events")
    p.add_argument("--seed", type=int, help="seed of the engine's random choices")
    p.add_argument("--stats-json", metavar="OUT.json",
                   help="on exit, write the engine's live snapshot and the controller's figures")
    p.add_argument("--web", metavar="HOST:PORT",
                   help="serve the wallboard page, the supervisor API and /metrics there "
                   "(a bare port listens on 127.0.0.1); tokens from ACD_WEB_VIEWER_TOKEN and "
                   "ACD_WEB_SUPERVISOR_TOKEN or --web-tokens")
    p.add_argument("--web-tokens", metavar="FILE",
                   help="the wallboard's tokens, one `ROLE NAME TOKEN` line each "
                   "(ROLE: viewer or supervisor)")
    p.add_argument("--queue-log", metavar="FILE",
                   help="append every queue event to FILE as Asterisk's app_queue writes its "
                   "queue_log (QueueMetrics, Asternic read it); reopened on SIGHUP (logrotate)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(run=run)


def start_time(site: SiteConfig, text: str | None) -> float | None:
    """The epoch time `--start` names in the site's local time, or None (now, or the
    PBX's time for `pbx`). HH:MM is on the configuration's simulation date."""
    if text is None or text == "pbx":
        return None
    try:
        if "T" not in text:
            if site.simulation is None:
                raise ValueError("HH:MM needs the configuration's simulation.date")
            from acd.softphone_sim.people import day_start

            return day_start(site) + local_minute(text) * 60.0
        local = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)
        return local.timestamp() - parse_offset(site.site.utc_offset)
    except ValueError as e:
        raise ValueError(f"--start {text}: {e}") from e


def check_flags(args: argparse.Namespace) -> None:
    """Refuse flag values no run can use, before anything starts: ValueError naming
    the flag and what it takes."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(args.ari_url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed [ in the host
        usable = False
    if not usable:
        raise ValueError(
            f"--ari-url {args.ari_url}: expected Asterisk's HTTP server, http(s)://HOST:PORT "
            "(e.g. http://127.0.0.1:8088)"
        )
    if args.standby and args.redis is None:
        raise ValueError(
            "--standby needs --redis URL: a standby follows the active engine's journal "
            "in the shared store"
        )
    low, high = LEASE_MS
    if not low <= args.lease_ms <= high:
        raise ValueError(f"--lease-ms {args.lease_ms}: expected {low} to {high} ms")
    if args.snapshot_every < 1:
        raise ValueError(
            f"--snapshot-every {args.snapshot_every}: expected at least 1 event"
        )
    if args.stats_json is not None:
        check_output(args.stats_json, "--stats-json")
    if args.queue_log is not None:
        check_output(args.queue_log, "--queue-log")
    args.web_address = None
    args.tokens = None
    if args.web_tokens is not None and args.web is None:
        raise ValueError("--web-tokens needs --web HOST:PORT (where to serve the wallboard)")
    if args.web is not None:
        from acd.cli.web_options import required_tokens

        args.web_address = listen_address(args.web, "--web", 8080)
        args.tokens = required_tokens(args.web_tokens)


def refusal(url: str, user: str, error: AriError) -> str:
    """The line `acd serve` ends with when Asterisk refuses it for good: the events
    socket answered with a status of REFUSED_FOR_GOOD, or a REST call 401 or 403 (a
    user without write access: `ari.check_write_access`). Never the password."""
    status = error.status
    if status == 403 and error.method != "GET":
        return (
            f"--ari-url {url}: Asterisk refused user {user!r} control of calls (HTTP 403 "
            f"on {error.method} /ari{error.path}: {error.message}): in ari.conf the "
            "user needs read_only = no"
        )
    if status in (401, 403):
        return (
            f"--ari-url {url}: Asterisk refused the ARI credentials of user {user!r} "
            f"(HTTP {status}): check ACD_ARI_USER and ACD_ARI_PASSWORD or "
            "--ari-password-file against ari.conf"
        )
    return (
        f"--ari-url {url}: no ARI events there (HTTP {status} on /ari/events): is it "
        "Asterisk's HTTP server (http.conf) with ARI enabled (ari.conf), at its root path?"
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format=FORMAT)
    try:
        site = load_site(args.config)
    except ConfigErrors as errors:
        print(errors, file=sys.stderr)
        return 1
    try:
        check_flags(args)
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
    """Run until a signal (exit 0), until another engine holds the lease (exit 3), or
    until Asterisk refuses us for good (exit 1)."""
    from acd.ari.client import REFUSED_FOR_GOOD, AriClient, AriError
    from acd.ari.clock import Clock
    from acd.ari.controller import Controller
    from acd.engine import Engine
    from acd.store.base import StoreError, Unavailable

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # First, before anything of ours is logged: a line of ours tells readers that a
    # signal now stops us cleanly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    clock = Clock(args.speed, start)
    # The log's times are the engine's (compressed in a demo), in the site's time.
    stamp_with(clock.now, parse_offset(site.site.utc_offset))
    store = open_store(site, args.redis)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    fenced: list[str] = []
    refused: list[AriError] = []
    failed: list[str] = []
    try:
        taken = await take_lease(site, store, owner, args, stop)
    except StoreError as e:  # unreachable at the last step, or someone else's data
        why = "unreachable" if isinstance(e, Unavailable) else "unusable"
        log.error("store %s %s: %s", store.name, why, e)
        await store.close()
        return 1
    if taken is None:  # stopped while waiting
        await store.close()
        return 0
    lease, engine, problems = taken
    for problem in problems:
        log.warning("recovery: %s", problem)
    if engine is None:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 62)
        engine = Engine(site, rng=random.Random(seed), start=clock.now())
        log.info("starting with an empty floor (epoch %d)", lease.epoch)
    else:
        clock.sync(engine.now)
        log.info(
            "carrying on from the stored state (epoch %d): %d calls, %d waiting, %d agents "
            "logged in", lease.epoch, len(engine.calls),
            sum(len(q.waiting) for q in engine.queues.values()),
            sum(1 for a in engine.agents.values() if a.state != "logged_out"),
        )
    async with AriClient(
        args.ari_url, user, password, app=args.app,
        max_in_flight=site.live.admission.max_requests_in_flight,
        rest_over_websocket=args.ari_rest == "auto",
    ) as client:

        def on_refused(err: AriError) -> None:
            # Credentials changed under us (ari.conf reloaded): every call would fail.
            refused.append(err)
            stop.set()

        client.on_refused = on_refused
        async with asyncio.TaskGroup() as tg:
            from acd.store.writer import StateWriter

            def on_fenced(why: str) -> None:
                fenced.append(why)
                controller.step_down()
                stop.set()

            writer = StateWriter(
                store, engine, lease, spawn=tg.create_task, on_fenced=on_fenced,
                snapshot_every=args.snapshot_every, speed=args.speed,
            )
            await writer.start()
            controller = Controller(
                site, engine, client, clock, spawn=tg.create_task, keeper=writer,
                sync_clock=args.start == "pbx",
            )

            async def follow_events() -> None:
                try:
                    await controller.run()
                except AriError as err:
                    if err.status not in REFUSED_FOR_GOOD:
                        raise
                    refused.append(err)
                    stop.set()

            events = tg.create_task(follow_events())
            keeping = tg.create_task(writer.keep())
            follower = None
            if args.redis is not None:
                # Wallboard servers beside this engine (`acd wallboard`) act through the
                # store: their commands are applied here like the controller's events.
                from acd.web.commands import follow_commands

                follower = tg.create_task(follow_commands(
                    store, engine, controller.feed, clock.now, writer.command_done
                ))
            logging_queue = None
            if args.queue_log is not None:
                logging_queue = tg.create_task(keep_queue_log(engine, args.queue_log, failed, stop))
            web_task = None
            if args.web_address is not None:
                web_task = tg.create_task(serve_web(
                    site, args, engine, clock, controller.feed, store, failed, stop
                ))
            log.info(
                "serving site %r as app %r on %s (speed %g, state in %s)",
                site.site.name, args.app, client.root, args.speed, store.name,
            )
            await stop.wait()
            if not fenced and not refused:
                log.info("stopping: handing waiting callers back (%s)", site.live.on_shutdown)
                await controller.shutdown()
            events.cancel()
            for task in (web_task, follower, logging_queue):
                if task is not None:
                    task.cancel()
            controller.step_down()  # nothing more is handled: what is kept is final
            if not fenced:
                await writer.stop()
            keeping.cancel()
        log.info(
            "stopped: %d calls, %d handed back, outcomes %s",
            controller.stats.calls, controller.stats.handed_back, controller.stats.outcomes,
        )
        if args.stats_json:
            report = {
                "controller": controller.stats,
                "client": client.counters,
                "store": writer.stats,
                "engine": engine.snapshot(clock.now()),
            }
            write_output(
                args.stats_json, "--stats-json",
                msgspec.json.format(msgspec.json.encode(report), indent=2), "the figures",
            )
    await store.close()
    if refused:
        print(f"acd serve: {refusal(args.ari_url, user, refused[0])}", file=sys.stderr)
        return 1
    if failed:
        print(f"acd serve: {failed[0]}", file=sys.stderr)
        return 1
    return 3 if fenced else 0


QUEUE_LOG_FLUSH = 0.5
"""Seconds between two writes of the queue_log (its lines carry their own times)."""


async def keep_queue_log(
    engine: Engine, path: str, failed: list[str], stop: asyncio.Event
) -> None:
    """Write the engine's queue_log to `path` until cancelled (the last lines then),
    reopening it on SIGHUP. A file that cannot be opened or written stops `acd serve`
    with one line naming `--queue-log`; one that cannot be reopened keeps the old."""
    import time

    from acd.queue_log.file import QueueLog, QueueLogFile

    loop = asyncio.get_running_loop()
    hup = asyncio.Event()
    try:
        queue_log = QueueLog(engine, QueueLogFile(path), time.time())
    except OSError as e:
        failed.append(f"--queue-log {path}: cannot write it ({e.strerror or e})")
        stop.set()
        return
    loop.add_signal_handler(signal.SIGHUP, hup.set)
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hup.wait(), QUEUE_LOG_FLUSH)
            if hup.is_set():
                hup.clear()
                try:
                    queue_log.reopen(time.time())
                    log.info("queue_log %s reopened", path)
                except OSError as e:
                    log.error("queue_log %s: cannot reopen (%s); still writing the old file",
                              path, e.strerror or e)
            queue_log.drain()
    except OSError as e:
        failed.append(f"--queue-log {path}: cannot write it ({e.strerror or e})")
        stop.set()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        with contextlib.suppress(OSError):
            queue_log.close()


async def serve_web(
    site: SiteConfig,
    args: argparse.Namespace,
    engine: Engine,
    clock: Clock,
    feed: Callable[[Event], None],
    store: Store,
    failed: list[str],
    stop: asyncio.Event,
) -> None:
    """The wallboard on this engine, until cancelled; an address that cannot be listened
    on stops `acd serve` with one line naming `--web`."""
    from acd.cli import web_options
    from acd.web.app import Web
    from acd.web.sources import EngineSource

    web = Web(site, args.tokens, EngineSource(engine, clock.now, feed, store, args.speed))
    await web_options.serve_web(web, args.web_address, "--web", failed, stop)


def open_store(site: SiteConfig, url: str | None) -> Store:
    """The Redis store for `url`, else the embedded memory store."""
    if url is None:
        from acd.store.memory import MemoryStore

        return MemoryStore(site.site.name)
    from acd.store.redis import RedisStore

    return RedisStore(site.site.name, url)


async def take_lease(
    site: SiteConfig, store: Store, owner: str, args: argparse.Namespace, stop: asyncio.Event
) -> tuple[Lease, Engine | None, list[str]] | None:
    """Wait for the site's lease; (lease, the engine to carry on with or None for a
    fresh one, recovery problems), or None if stopped first.

    Active: take the lease as soon as it is free (a predecessor killed mid-surge
    holds it until it lapses), then rebuild from the snapshot and journal.
    Standby: follow the journal meanwhile, and take the lease only when a snapshot
    exists to carry on from; the take-over then costs only the last entries."""
    from acd.store.base import Unavailable
    from acd.store.writer import Follower, recover

    follower = Follower(site, store) if args.standby else None
    if follower is not None:
        log.info("standby for site %r: following the journal in %s", site.site.name, store.name)
    waited = False
    while not stop.is_set():
        try:
            if follower is not None:
                await follower.catch_up(block_ms=100)
            lease = await store.acquire(owner, args.lease_ms, need_snapshot=follower is not None)
        except Unavailable as e:
            log.warning("store unreachable (%s); retrying", e)
            await asyncio.sleep(0.5)
            continue
        if lease is not None:
            break
        if not waited:
            waited = True
            log.info("the lease of site %r is held by another engine: waiting", site.site.name)
        if follower is None:
            await asyncio.sleep(0.1)
    else:
        return None
    if follower is not None:
        await follower.catch_up(block_ms=0)
        log.info("took over with epoch %d after %d journal entries followed",
                 lease.epoch, follower.applied)
        return lease, follower.engine, follower.problems
    engine, _last, problems = recover(site, await store.load(), store.keys.prefix)
    return lease, engine, problems
