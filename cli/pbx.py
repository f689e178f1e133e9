"""`acd pbx CONFIG --listen HOST:PORT --curve CURVE [--speed X] [--seed N] [--json OUT.json]
[--start HH:MM] [--duration MINUTES]`: the virtual PBX with its simulated people.

An ARI server (Asterisk's REST and event WebSocket, app `acd`) whose callers are
placed from the surge curve and whose agents, vendor trunks and called-back citizens
answer as the configuration's `simulation:` section says, in virtual time running
`--speed` times faster than the wall. Point the engine's controller at it as at an
Asterisk. A test and demo instrument: it shares the people's model with
`acd simulate` (softphone_sim/people.py) and knows nothing of the engine's routing.

ARI credentials: the user is `ACD_ARI_USER` (default `acd`); the password is
`ACD_ARI_PASSWORD` or the first line of `--ari-password-file`. It is never printed.

It runs until the curve window is over and its last callers are done (callers
still waiting, redials, callbacks owed: at most `--drain` minutes after the window),
or SIGINT or SIGTERM, then writes every call's outcome and the summary to `--json`
and prints the summary. It prints `listening on http://HOST:PORT` (flushed) once it
accepts connections (`--listen 127.0.0.1:0` picks a free port and prints the one it
got), then a line of figures every 15 minutes of the simulated day and one when the
window ends, saying what the run still waits for.

Exit status: 0 when the run ended (and `--json` was written); 1 when the
configuration, the curve or the `--json` path is refused (checked before the PBX
listens), the address cannot be listened on, or `--json` could not be written at
the end (the run is then kept in a temporary file, named on stderr); 2 for a
command line that is wrong (argparse's, or a flag's value: --listen, --start,
--speed, --duration, --drain, no ARI password).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import Any

import msgspec

from acd.cli.commands import help_of
from acd.cli.options import (
    ari_credentials,
    check_output,
    listen_address,
    local_minute,
    write_output,
)
from acd.cli.simulate import load_day
from acd.config.schema import SiteConfig
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.pbx.population import CallRecord, Population, Summary
from acd.softphone_sim.people import DRAIN_SECONDS

APP_POLL_SECONDS = 0.05
"""Wall seconds between looks for the controller's WebSocket."""

PROGRESS_MINUTES = 15
"""Minutes of the simulated day between two progress lines (a reporting interval)."""


class PbxRun(msgspec.Struct, kw_only=True):
    """What `--json` holds: the run's settings, its summary, and every call."""

    config: str
    curve: str
    seed: int
    speed: float
    date: str
    start: str
    duration_minutes: int
    drain_minutes: float
    interrupted: bool
    """True when a signal stopped the run before its last callers were done."""
    summary: Summary
    calls: list[CallRecord]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "pbx",
        help=help_of("pbx"),
        description="A virtual PBX speaking Asterisk's ARI, with callers placed from a "
        "surge curve and agents, vendors and called-back citizens acting as the "
        "configuration's `simulation:` section says, time-compressed by --speed.",
        epilog="Exit status: 0 the run ended; 1 a configuration, curve or --json path "
        "refused (before listening), an address that cannot be listened on, or --json not "
        "written at the end (the run is kept in a temporary file, named); 2 a wrong command "
        "line (a flag's value, no ARI password).",
    )
    p.add_argument("config", help="site configuration with a `simulation:` section")
    p.add_argument(
        "--listen", required=True, metavar="HOST:PORT", help="where ARI listens (port 0: any)"
    )
    p.add_argument("--curve", required=True, help="surge curve CSV (see config/curves/)")
    p.add_argument("--speed", type=float, default=1.0, help="virtual seconds per wall second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="OUT.json", help="write every call's outcome and the summary")
    p.add_argument(
        "--start", default="00:00", metavar="HH:MM", help="local time the callers start calling"
    )
    p.add_argument(
        "--duration",
        type=int,
        metavar="MINUTES",
        help="how long callers keep arriving (default: to the end of the day)",
    )
    p.add_argument(
        "--drain",
        type=float,
        default=DRAIN_SECONDS / 60,
        metavar="MINUTES",
        help="after the window, how long at most the run waits for callers still in "
        "queues, redials and callbacks owed (default %(default)g, as acd simulate)",
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="start the people at once instead of when a controller has connected",
    )
    p.add_argument(
        "--ari-password-file",
        metavar="FILE",
        help="file whose first line is the ARI password (else ACD_ARI_PASSWORD)",
    )
    p.set_defaults(run=run)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def serve(
    site: SiteConfig,
    curve: Curve,
    *,
    host: str,
    port: int,
    users: dict[str, str],
    speed: float,
    seed: int,
    start_minute: int,
    duration_minutes: int | None,
    drain_minutes: float = DRAIN_SECONDS / 60,
    wait_for_app: bool = True,
    progress: bool = False,
) -> tuple[Population, bool]:
    """Run the virtual PBX and its people until the run is over or a signal comes;
    (the population, interrupted?). With `progress`, print a line of figures every
    PROGRESS_MINUTES of the simulated day and one when the window ends.

    With `wait_for_app` the people start once a controller has connected to the app:
    agents whose login call finds no controller would stay logged out all day. The
    virtual clock then starts again at `start_minute`, so nothing fell due meanwhile."""
    from acd.softphone_sim.pbx import VirtualPbx
    from acd.softphone_sim.people import day_start

    assert site.simulation is not None
    pbx = VirtualPbx(
        app="acd",
        speed=speed,
        start=day_start(site) + start_minute * 60.0,
        users=users,
        prompt_seconds_per_sound=site.simulation.prompt_seconds_per_sound,
    )
    population = Population(
        site,
        curve,
        pbx,
        seed=seed,
        start_minute=start_minute,
        duration_minutes=duration_minutes,
        drain_seconds=drain_minutes * 60.0,
    )
    over = asyncio.Event()
    population.on_done = over.set
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, over.set)
    try:
        try:
            bound = await pbx.start(host, port)
        except OSError as error:  # the port is taken, the address is not ours, ...
            raise ValueError(f"--listen {host}:{port}: {error}") from None
        print(f"listening on http://{host}:{bound}", flush=True)
        if wait_for_app:
            print("waiting for a controller on app acd", file=sys.stderr, flush=True)
            while not pbx.app_connected and not over.is_set():
                await asyncio.sleep(APP_POLL_SECONDS)
            # The day starts when someone is there to take calls: no burst of the
            # calls that would have fallen due while we waited.
            pbx.clock.restart(day_start(site) + start_minute * 60.0)
        if not over.is_set():
            population.start()
            if progress:
                report_progress(population, drain_minutes)
            await over.wait()
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
        await pbx.stop()
    return population, not population.done


def _clock_time(population: Population, at: float) -> str:
    """HH:MM of the simulated day at virtual epoch time `at`."""
    minute = int((at - population.day_start) // 60)
    return f"{minute // 60:02d}:{minute % 60:02d}"


def report_progress(population: Population, drain_minutes: float) -> None:
    """Print the run's figures every PROGRESS_MINUTES of the simulated day until the
    run is done (a demo's operator sees it move, the drain too), and at the window's
    end with what the run still waits for."""
    clock = population.clock

    def figures(at: float) -> None:
        s = population.summary()
        print(
            f"{_clock_time(population, at)}  {s.calls:,} calls: {s.answered:,} answered, "
            f"{s.abandoned:,} abandoned, {s.in_progress:,} in progress; "
            f"{population.callbacks_owed:,} callbacks owed",
            flush=True,
        )

    def tick(at: float) -> None:
        if population.done:
            return
        if at != population.window_end:  # window_over says it then
            figures(at)
        following = at + PROGRESS_MINUTES * 60.0
        clock.call_at(following, lambda: tick(following))

    def window_over() -> None:
        figures(population.window_end)
        if population.outstanding:
            print(
                f"{_clock_time(population, population.window_end)}  the window is over: "
                "the run ends when the calls in progress and the callbacks owed are "
                f"done, by {_clock_time(population, population.deadline)} at the latest "
                f"(--drain {drain_minutes:g})",
                flush=True,
            )

    population.on_window_over = window_over
    first = population.window_start + PROGRESS_MINUTES * 60.0
    clock.call_at(first, lambda: tick(first))


def print_summary(summary: Summary) -> None:
    rate = f"{summary.answer_rate:.1%}" if summary.answer_rate is not None else "-"
    wait = (
        f"{summary.mean_wait_answered_seconds:.0f} s"
        if summary.mean_wait_answered_seconds is not None
        else "-"
    )
    print(
        f"{summary.calls} calls ({summary.first_calls} first calls, {summary.redials} redials): "
        f"{summary.answered} answered ({summary.answered_by_agent} by agents, "
        f"{summary.answered_by_vendor} by vendors), answer rate {rate}, "
        f"mean wait of the answered {wait}"
    )
    print(
        f"{summary.abandoned} abandoned, {summary.hung_up_by_pbx} ended by the PBX side, "
        f"{summary.callbacks_requested} callbacks requested, "
        f"{summary.callbacks_answered} of {summary.callback_legs} callback legs answered, "
        f"{summary.in_progress} still in progress; {summary.agent_misses} rings missed"
    )
    # Why acd serve's own totals differ, where the operator compares them.
    print(
        "These are the callers' figures. acd serve counts from the engine's side: its "
        f"'answered' includes the {summary.callbacks_answered} callbacks answered, and a "
        "caller who hangs up while the agent's leg is being bridged is answered there "
        "and abandoned here (in compressed time, the bridging's wall milliseconds are seconds "
        "of the day)."
    )


def run(args: argparse.Namespace) -> int:
    try:
        host, port = listen_address(args.listen, "--listen", 8088)
        try:
            start_minute = local_minute(args.start)
        except ValueError as error:
            raise ValueError(f"--start: {error}") from None
        if args.speed <= 0:
            raise ValueError(f"--speed: expected a positive factor, got {args.speed}")
        if not 0 <= args.drain <= 24 * 60:  # nan fails both
            raise ValueError(f"--drain: expected 0 to 1440 minutes, got {args.drain}")
        if args.duration is not None and not 0 < args.duration <= 24 * 60 - start_minute:
            raise ValueError(
                f"--duration: expected 1 to {24 * 60 - start_minute} minutes "
                f"(from {args.start} to the end of the day), got {args.duration}"
            )
        user, password = ari_credentials(args.ari_password_file)
    except ValueError as error:
        print(f"acd pbx: {error}", file=sys.stderr)
        return 2
    if args.json:
        try:
            check_output(args.json, "--json")
        except ValueError as error:
            print(f"acd pbx: {error}", file=sys.stderr)
            return 1
    loaded = load_day(args.config, args.curve)
    if loaded is None:
        return 1
    site, curve = loaded
    assert site.simulation is not None  # load_day checked it
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            population, interrupted = runner.run(
                serve(
                    site,
                    curve,
                    host=host,
                    port=port,
                    users={user: password},
                    speed=args.speed,
                    seed=args.seed,
                    start_minute=start_minute,
                    duration_minutes=args.duration,
                    drain_minutes=args.drain,
                    wait_for_app=not args.no_wait,
                    progress=True,
                )
            )
    except ValueError as error:
        print(f"acd pbx: {error}", file=sys.stderr)
        return 1
    summary = population.summary()
    if interrupted:
        print("stopped before the last callers were done")
    print_summary(summary)
    if args.json:
        result = PbxRun(
            config=args.config,
            curve=curve.name,
            seed=args.seed,
            speed=args.speed,
            date=site.simulation.date,
            start=args.start,
            duration_minutes=args.duration if args.duration is not None else 24 * 60 - start_minute,
            drain_minutes=args.drain,
            interrupted=interrupted,
            summary=summary,
            calls=population.records,
        )
        data = msgspec.json.format(msgspec.json.encode(result), indent=2)
        if not write_output(args.json, "--json", data, "the run"):
            return 1
        print(f"wrote {args.json}")
    return 0
