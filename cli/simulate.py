"""`acd simulate CONFIG --curve CURVE [--seed N] [--json OUT] [--report OUT.html]
[--queue-log FILE]`.

Exit status: 0 when the day was replayed (and its files written); 1 when the
configuration, the curve or an output path (`--json`, `--report`, `--queue-log`) is
refused, each checked before the replay starts; 2 for a command line argparse
refuses. A file that cannot be written after all at the end keeps the result in a
temporary file (named on stderr), and the status is 1. The queue_log is written as
the day goes (Asterisk's format, `acd.queue_log`); one that fails on the way stops
the replay with one line naming `--queue-log`, and the status is 1."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from acd.cli.commands import help_of
from acd.cli.options import check_outputs, write_results
from acd.config.loader import ConfigErrors, load_site
from acd.config.schema import SiteConfig

if TYPE_CHECKING:
    from acd.engine import Engine
    from acd.queue_log.file import QueueLog
    from acd.softphone_sim.curves import Curve
    from acd.softphone_sim.result import Result


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help=help_of("simulate"),
        description="Replay a whole day (callers from the surge curve, agents from the "
        "shifts) through the same engine that runs live, in virtual time.",
        epilog="Exit status: 0 done; 1 a configuration, curve or output path refused "
        "(checked before the replay starts), or an output file that could not be written "
        "at the end (the result is then kept in a temporary file, named); 2 a command "
        "line argparse refuses.",
    )
    p.add_argument("config", help="site configuration with a `simulation:` section")
    p.add_argument("--curve", required=True, help="surge curve CSV (see config/curves/)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="OUT.json", help="write the full result as JSON")
    p.add_argument("--report", metavar="OUT.html", help="write the HTML report with plots")
    p.add_argument(
        "--queue-log",
        metavar="FILE",
        help="write the day's queue_log as Asterisk's app_queue writes it (QueueMetrics, "
        "Asternic read it); the file is replaced",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def limit_line(result: Result) -> str:
    """The day's answered share beside the pooled limit (softphone_sim/bound.py)."""
    bound = result.bound
    assert bound is not None
    share = result.answered / result.calls if result.calls else 0.0
    return (
        f"Answered {share:.1%} of the day's calls; the pooled limit for the staffing on duty "
        f"(any routing, Erlang A per interval, AHT {bound.aht_seconds:.0f} s, mean patience "
        f"{bound.patience_seconds:.0f} s) is {_pct(bound.in_house)} in-house and "
        f"{_pct(bound.with_vendors)} with the vendors' seats."
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


class _Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a few dots otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: float) -> None:
        if not self.enabled:
            return
        percent = int(done * 100)
        if percent == self.last:
            return
        self.last = percent
        if self.tty:
            bar = "#" * (percent // 2) + "-" * (50 - percent // 2)
            sys.stderr.write(f"\r  [{bar}] {percent:3d}% of the day")
            if percent == 100:
                sys.stderr.write("\n")
        elif percent % 10 == 0:
            sys.stderr.write(f"  {percent}% of the day\n")
        sys.stderr.flush()


def load_day(config: str, curve_path: str) -> tuple[SiteConfig, Curve] | None:
    """The site (with its `simulation:` section, how people behave) and the surge
    curve that make a simulated day; None after printing what is wrong with them.
    The curve's columns must be branches of the site's `simulation.branches` (a
    branch the curve leaves out has no calls)."""
    from acd.softphone_sim.curves import CurveError, load_curve

    try:
        site = load_site(config)
    except ConfigErrors as errors:
        print(errors, file=sys.stderr)
        return None
    if site.simulation is None:
        print(f"{config}: no `simulation:` section (how callers behave)", file=sys.stderr)
        return None
    try:
        # The curve's columns are the site's IVR branches, whatever they are called.
        curve = load_curve(
            curve_path,
            known_branches=tuple(site.simulation.branches),
            known_from=f"the branches of {config} (simulation.branches)",
        )
        return site, curve
    except CurveError as error:
        print(error, file=sys.stderr)
        return None


LEGEND = """\
calls: reached the queue; offered: less the short abandons (site.short_abandon_seconds).
answer%: answered (agents and vendors) / offered.  SL: answered within the queue's
service-level threshold / (answered + abandoned after it); SL(ast): the same over the
answered only, as Asterisk's app_queue reports it.  ASA: mean wait of the answered.
max wait: the longest wait to an answer or an abandon; a caller who took a callback
keeps their place in line while waiting at home, so the wait to the call back counts.
overflow: calls sent to a vendor at least once; vendor: calls a vendor answered.
blocked: turned away because the queue was full (max_waiting)."""


def run(args: argparse.Namespace) -> int:
    from acd.softphone_sim.replay import replay
    from acd.softphone_sim.report import idle_line, render_html, summary_table

    try:
        check_outputs(
            ("--json", args.json), ("--report", args.report), ("--queue-log", args.queue_log)
        )
    except ValueError as problem:
        print(f"acd simulate: {problem}", file=sys.stderr)
        return 1
    loaded = load_day(args.config, args.curve)
    if loaded is None:
        return 1
    site, curve = loaded
    queue_log = _QueueLogOption(args.queue_log)
    try:
        result = replay(
            site,
            curve,
            args.seed,
            config_name=args.config,
            progress=_Progress(not args.quiet),
            follow=queue_log.follow if args.queue_log else None,
        )
    except ValueError as error:
        print(f"acd simulate: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # only the queue_log writes while the day is replayed
        print(
            f"acd simulate: --queue-log {args.queue_log}: cannot write there "
            f"({error.strerror or error})",
            file=sys.stderr,
        )
        return 1
    finally:
        queue_log.close()
    print(summary_table(result))
    print(LEGEND)
    self_served = result.outcomes.get("self_served", 0)
    if self_served:
        print(
            f"{self_served:,} calls ended in the IVR (a link sent, an announcement, a hang-up\n"
            "node) and joined no queue: the day's calls below count them, TOTAL above does not."
        )
    if result.bound is not None:
        print(limit_line(result))
    idle = idle_line(result)
    if idle is not None:  # capacity left unused while callers gave up: said once, plainly
        print(idle)
    print(
        f"\n{result.calls} calls ({result.first_calls} first calls, {result.redials} redials) in "
        f"{result.run.wall_seconds:.2f} s: {result.run.calls_per_second:,.0f} calls/s, "
        f"{result.run.events_per_second:,.0f} events/s, peak memory {result.run.peak_rss_mb:.0f} MB"
    )
    written = write_results(
        args.json, args.report, result, lambda: render_html(result), "the result"
    )
    status = 0 if written else 1
    if args.queue_log:
        print(f"wrote {args.queue_log} ({queue_log.lines:,} queue_log lines)")
    return status


class _QueueLogOption:
    """`--queue-log FILE`: the replay's queue_log, opened when the day starts."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.log: QueueLog | None = None

    def follow(self, engine: Engine, start: float) -> QueueLog:
        from acd.queue_log.file import QueueLog, QueueLogFile

        assert self.path is not None
        self.log = QueueLog(engine, QueueLogFile(self.path, fresh=True), start)
        return self.log

    @property
    def lines(self) -> int:
        return self.log.written if self.log is not None else 0

    def close(self) -> None:
        if self.log is not None:
            self.log.file.close()
