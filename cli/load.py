"""`acd load CONFIG --curve CURVE --pbx HOST:PORT [--window HH:MM-HH:MM] ...`.

Exit status: 0 when the window was placed (and its files written); 1 when an input
is refused before any call (configuration, curve, window, scale, agents file,
output path, SIPp missing) or the PBX does not answer; 2 for a command line
argparse refuses."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path
from typing import Any

import msgspec

from acd.cli.commands import help_of
from acd.cli.options import check_outputs, local_minute, write_output, write_results
from acd.config.loader import ConfigErrors, load_site

PROJECT_SOUNDS = Path(__file__).resolve().parent.parent / "config" / "asterisk" / "sounds"
SAMPLE_AGENTS = Path(__file__).resolve().parent.parent / "config" / "asterisk" / "pjsip_agents.conf"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "load",
        help=help_of("load"),
        description="Place the callers of a curve window as real SIP calls (SIPp) "
        "against a PBX whose dialplan hands the site's number to Stasis with `acd "
        "serve` attached; play the agents' phones (they register and log in) and the "
        "vendors' floors; print what the callers lived beside what `acd simulate` "
        "predicts for the same window and seed. Real time: a 60-minute window takes "
        "an hour. Start `acd serve` with --start DATE T HH:MM of the window so that "
        "its schedules see the same local time.",
        epilog="Exit status: 0 done; 1 an input refused before any call, SIPp missing, "
        "or the PBX not answering; 2 a command line argparse refuses.",
    )
    p.add_argument("config", help="site configuration with a `simulation:` section")
    p.add_argument("--curve", required=True, help="surge curve CSV (see config/curves/)")
    p.add_argument(
        "--pbx",
        required=True,
        metavar="HOST:PORT",
        help="the PBX's SIP address, e.g. 127.0.0.1:5060",
    )
    p.add_argument(
        "--window",
        default="10:00-10:15",
        metavar="HH:MM-HH:MM",
        help="the stretch of the curve's day to place (default 10:00-10:15)",
    )
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply the curve's calls (default 1)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--agents",
        type=int,
        metavar="N",
        help="log in the site's first N agents (default: those on shift)",
    )
    p.add_argument(
        "--agents-conf",
        metavar="FILE",
        default=str(SAMPLE_AGENTS),
        help="the agents' SIP accounts (pjsip_agents.conf with the passwords "
        "set; default the sample)",
    )
    p.add_argument(
        "--caller-port",
        type=int,
        default=5070,
        metavar="PORT",
        help="the UDP port the callers send from: the carrier address the PBX "
        "trusts (pjsip.conf identify), default 5070",
    )
    p.add_argument(
        "--vendor",
        action="append",
        default=[],
        metavar="TRUNK=PORT",
        help="answer vendor TRUNK's calls on 127.0.0.1:PORT (its AOR contact)",
    )
    p.add_argument(
        "--sounds",
        action="append",
        default=[],
        metavar="DIR",
        help="the PBX's sounds folder, to time prompts the project lacks",
    )
    p.add_argument(
        "--drain",
        type=float,
        default=30.0,
        metavar="MINUTES",
        help="after the window, how long the last callers may go on (default 30)",
    )
    p.add_argument("--ramp", metavar="RATES",
                   help="instead of the window's curve: steps of new calls per second, e.g. "
                   "5,10,20,40, until calls fail or are turned away; prints the knee")
    p.add_argument("--step-seconds", type=float, default=60.0, metavar="S",
                   help="with --ramp: how long each rate is held (default 60)")
    p.add_argument("--asterisk-log", metavar="FILE",
                   help="Asterisk's messages log (e.g. /var/log/asterisk/messages): count "
                   "its task-processor warnings during the calls")
    p.add_argument("--keep-files", metavar="DIR",
                   help="keep SIPp's scenario, injection file and step log in DIR")
    p.add_argument("--json", metavar="OUT.json", help="write the result as JSON")
    p.add_argument("--report", metavar="OUT.html", help="write the HTML report")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=run)


def _window(text: str) -> tuple[int, int]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"--window: expected HH:MM-HH:MM, got {text!r}")
    try:
        first = local_minute(start)
        last = 24 * 60 if end == "24:00" else local_minute(end)
    except ValueError as error:
        raise ValueError(f"--window: {error}") from None
    if last <= first:
        raise ValueError(f"--window: {text} ends before it starts")
    return first, last - first


def _rates(text: str) -> list[float]:
    try:
        rates = [float(r) for r in text.split(",")]
    except ValueError:
        raise ValueError(f"--ramp: expected rising rates such as 5,10,20, got {text!r}") from None
    if not rates or any(not r > 0 for r in rates) or rates != sorted(set(rates)):
        raise ValueError(f"--ramp: expected rising rates above 0 such as 5,10,20, got {text!r}")
    return rates


def _pbx(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--pbx: expected HOST:PORT, e.g. 127.0.0.1:5060, got {text!r}")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    from acd.load.agents_conf import AgentsConfError, read_credentials
    from acd.load.sipp import SippMissing, sipp_path
    from acd.softphone_sim.curves import CurveError, load_curve, scale

    try:
        start, minutes = _window(args.window)
        pbx = _pbx(args.pbx)
        if not (args.scale > 0 and math.isfinite(args.scale)):
            raise ValueError(f"--scale: must be more than 0, got {args.scale:g}")
        if args.agents is not None and args.agents < 1:
            raise ValueError(f"--agents: at least 1, got {args.agents}")
        if not 0 < args.caller_port < 65536:
            raise ValueError(f"--caller-port: a UDP port 1-65535, got {args.caller_port}")
        rates = _rates(args.ramp) if args.ramp is not None else []
        if not (args.step_seconds > 0 and math.isfinite(args.step_seconds)):
            raise ValueError(f"--step-seconds: must be more than 0, got {args.step_seconds:g}")
        if args.ramp is not None and args.report is not None:
            raise ValueError("--report: not with --ramp (the ramp prints its steps; use --json)")
        if not (args.drain >= 0 and math.isfinite(args.drain)):
            raise ValueError(f"--drain: minutes, 0 or more, got {args.drain:g}")
        vendors: dict[str, int] = {}
        for item in args.vendor:
            trunk, sep, port = item.partition("=")
            if not sep or not trunk or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"--vendor: expected TRUNK=PORT, e.g. vendor-a=5090, got {item!r}")
            vendors[trunk] = int(port)
        check_outputs(("--json", args.json), ("--report", args.report))
        sipp_path()
        site = load_site(args.config)
        if site.simulation is None:
            raise ValueError(f"{args.config}: no `simulation:` section (caller behaviour)")
        curve = load_curve(args.curve)
        if (
            curve.interval_seconds % 60
            or start % (curve.interval_seconds // 60)
            or (minutes % (curve.interval_seconds // 60))
        ):
            raise ValueError(
                f"--window: {args.window} does not fall on the curve's "
                f"{curve.interval_seconds // 60}-minute intervals"
            )
        if args.scale != 1.0:
            curve = scale(curve, factor=args.scale, step=f"--scale {args.scale:g}")
        credentials = read_credentials(Path(args.agents_conf))
        for trunk in vendors:
            if trunk not in {v.trunk.split("/", 1)[-1] for v in site.vendors.values()}:
                raise ValueError(f"--vendor: {trunk!r} is no vendor trunk of the site")
    except ConfigErrors as errors:
        print(errors, file=sys.stderr)
        return 1
    except (ValueError, CurveError, AgentsConfError, SippMissing, OSError) as error:
        print(f"acd load: {error}", file=sys.stderr)
        return 1
    from acd.load.phones import DialError, RegistrationError
    from acd.load.ramp import ramp_summary, run_ramp
    from acd.load.report import render_html, summary
    from acd.load.run import LoadPlan, run_load

    plan = LoadPlan(
        site=site, curve=curve, seed=args.seed, start_minute=start, minutes=minutes,
        pbx=pbx, caller_port=args.caller_port, credentials=credentials, agents=args.agents,
        vendors=vendors, sounds=(PROJECT_SOUNDS, *(Path(s) for s in args.sounds)),
        drain_seconds=args.drain * 60.0,
        home=None if args.keep_files is None else Path(args.keep_files),
        asterisk_log=None if args.asterisk_log is None else Path(args.asterisk_log),
    )  # fmt: skip

    tty = sys.stderr.isatty()
    lines = 0

    def say(line: str) -> None:
        if not args.quiet:
            print(("\n" if tty and lines else "") + line, file=sys.stderr, flush=True)

    def progress(line: str) -> None:
        # Redrawn in place on a terminal; every 30th (half a minute) in a log.
        nonlocal lines
        lines += 1
        if args.quiet:
            return
        if tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif lines % 30 == 1:
            print(line, file=sys.stderr, flush=True)

    try:
        if rates:
            ramp = asyncio.run(run_ramp(plan, rates, args.step_seconds, say, progress))
            print(ramp_summary(ramp))
            if args.json and not write_output(
                args.json, "--json", msgspec.json.format(msgspec.json.encode(ramp), indent=2),
                "the ramp",
            ):
                return 1
            return 0
        result = asyncio.run(run_load(plan, say, progress))
        if tty and lines and not args.quiet:
            print(file=sys.stderr)
    except KeyboardInterrupt:
        print("acd load: interrupted; every call and phone stopped", file=sys.stderr)
        return 1
    except (RuntimeError, OSError, RegistrationError, DialError, ExceptionGroup) as error:
        print(f"acd load: {_reason(error)}", file=sys.stderr)
        return 1
    print(summary(result))
    written = write_results(
        args.json, args.report, result, lambda: render_html(result), "the result", say=False
    )
    return 0 if written else 1


def _reason(error: BaseException) -> str:
    """The first leaf's message of an exception group (a phone that could not
    register or log in), or the error's own."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return str(error)
