"""`acd plan CONFIG --curve CSV --target TARGET [--per interval|day] [--seeds N]
[--check-seeds N] [--jobs N] [--max-rounds N] [--min-calls N] [--json OUT]
[--report OUT.html] [--quiet]`.

The fewest seat-hours of the site's shifts that meet the target, from per-interval
Erlang C corrected by replaying the day (the method: planner/plan.py), checked on
fresh seeds, with the marginal value of one more agent in each shift and the
comparison with per-interval Erlang C staffing. The user's file is never changed: the
plan's rosters are copies in memory.

Exit status: 0 when a roster met the target on the planning seeds (its check on fresh
seeds is printed, whatever it says); 1 when the configuration, the curve or an output
path is refused (checked before any replay), or no roster met the target within
`--max-rounds` (the closest is printed and written); 2 for a command line refused,
each flag's problem in one line naming it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import msgspec

from acd.cli.commands import help_of
from acd.cli.options import check_outputs, write_results

MAX_SEEDS = 100
MAX_JOBS = 256
MAX_ROUNDS = 1000


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plan",
        help=help_of("plan"),
        description="The fewest seat-hours of the site's shifts that meet a target: per-"
        "interval Erlang C, covered by the shifts, corrected by replaying the day, checked on "
        "fresh seeds; with the answered calls one more agent in each shift adds, and the "
        "comparison with per-interval Erlang C staffing. Method: planner/plan.py.",
        epilog="Exit status: 0 a roster met the target on the planning seeds (its check is "
        "printed whatever it says); 1 a configuration, curve or output path refused (before "
        "any replay), or no roster met the target within --max-rounds (the closest is "
        "printed and written); 2 a command line refused, each flag's problem in one line "
        "naming it.",
    )
    p.add_argument("config", help="site configuration with a `simulation:` section")
    p.add_argument("--curve", required=True, help="surge curve CSV (see config/curves/)")
    p.add_argument(
        "--target",
        required=True,
        metavar="TARGET",
        help="answered:X (answer rate, e.g. answered:0.9) or sl:X/T (service level: X "
        "answered within T seconds, e.g. sl:0.8/20; sl:X alone uses each queue's threshold)",
    )
    p.add_argument(
        "--per",
        default="interval",
        metavar="interval|day",
        help="the target holds in each interval (default) or for the day's calls together",
    )
    p.add_argument("--seeds", default="3", metavar="N", help="planning seeds 1..N (default 3)")
    p.add_argument(
        "--check-seeds",
        default="5",
        metavar="N",
        help="fresh seeds N+1.. after the planning ones to check the roster on (default 5)",
    )
    p.add_argument(
        "--jobs",
        default=None,
        metavar="N",
        help="replays at once, one process each (default: the machine's cores)",
    )
    p.add_argument(
        "--max-rounds",
        default="60",
        metavar="N",
        help="correction rounds at most (default 60)",
    )
    p.add_argument(
        "--min-calls",
        default="10",
        metavar="N",
        help="an interval with fewer offered calls on a seed is not judged there (default 10)",
    )
    p.add_argument("--json", metavar="OUT.json", help="write the whole plan as JSON")
    p.add_argument("--report", metavar="OUT.html", help="write the plan as an HTML page")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


class _Refused(ValueError):
    """A flag's value refused: its one line."""


def _whole(flag: str, text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise _Refused(f"{flag} {text}: expected a whole number of {what}") from None
    if not low <= value <= high:
        raise _Refused(f"{flag} {text}: expected {low} to {high} {what}")
    return value


def run(args: argparse.Namespace) -> int:
    from acd.planner.target import parse_target

    try:
        try:
            target = parse_target(args.target, "interval")
        except ValueError as problem:
            raise _Refused(f"--target {args.target}: {problem}") from None
        if args.per not in ("interval", "day"):
            raise _Refused(f"--per {args.per}: expected interval or day")
        target = msgspec.structs.replace(target, per=args.per)
        seeds = _whole("--seeds", args.seeds, 1, MAX_SEEDS, "seeds")
        check_seeds = _whole("--check-seeds", args.check_seeds, 1, MAX_SEEDS, "seeds")
        cores = os.cpu_count() or 1
        jobs = (
            min(cores, MAX_JOBS)
            if args.jobs is None
            else _whole("--jobs", args.jobs, 1, MAX_JOBS, "processes")
        )
        max_rounds = _whole("--max-rounds", args.max_rounds, 1, MAX_ROUNDS, "rounds")
        min_calls = _whole("--min-calls", args.min_calls, 0, 1_000_000, "calls")
    except _Refused as problem:
        print(f"acd plan: {problem}", file=sys.stderr)
        return 2
    try:
        check_outputs(("--json", args.json), ("--report", args.report))
    except ValueError as problem:
        print(f"acd plan: {problem}", file=sys.stderr)
        return 1

    from acd.cli.simulate import load_day

    loaded = load_day(args.config, args.curve)
    if loaded is None:
        return 1
    site, curve = loaded
    if not site.agents:
        print(
            f"acd plan: {args.config}: no agents to plan (agents:, agent_groups:)",
            file=sys.stderr,
        )
        return 1

    from acd.planner.plan import Planner
    from acd.planner.report import render_html, summary
    from acd.planner.runner import Runner

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"  {line}", file=sys.stderr, flush=True)

    try:
        planner = Planner(
            site,
            curve,
            target,
            seeds=tuple(range(1, seeds + 1)),
            check_seeds=tuple(range(seeds + 1, seeds + check_seeds + 1)),
            min_calls=min_calls,
            max_rounds=max_rounds,
            progress=progress,
        )
        with Runner(curve, jobs) as runner:
            plan = planner.run(runner, config_name=args.config)
    except ValueError as error:  # e.g. an interval's need no shift can cover
        print(f"acd plan: {error}", file=sys.stderr)
        return 1
    print(summary(plan))
    written = write_results(args.json, args.report, plan, lambda: render_html(plan), "the plan")
    return 0 if plan.reached and written else 1
