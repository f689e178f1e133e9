"""`acd erlang`: staffing from the Erlang C and Erlang A formulas.

    acd erlang --calls-per-hour 1200 --aht 180 --target-sl 0.8 --within 20
    acd erlang --calls-per-hour 1200 --aht 180 --patience 120 --target-sl 80%
    acd erlang --calls-per-second 0.5 --aht 240 --agents 125 130 135

With `--patience SECONDS` (the callers' mean patience) the model is Erlang A
(M/M/c+M), else Erlang C (M/M/c, nobody hangs up). Given targets, it prints the
fewest agents meeting all of them, with the figures of a few staffings either side;
given `--agents`, the figures of those staffings. Formulas and definitions:
`softphone_sim/erlang.py`.

Exit status: 0; 1 when no staffing up to the limit meets the target, or a given
staffing is unstable (Erlang C with agents <= load); 2 for bad input.
"""

from __future__ import annotations

import argparse
import math
import sys

from acd.cli.commands import help_of
from acd.softphone_sim.erlang import (
    MAX_AGENTS,
    Staffing,
    Target,
    Traffic,
    UnreachableTargetError,
    UnstableError,
    agents_needed,
    staffing_table,
)


def _fraction(text: str) -> float:
    """A fraction, written 0.8 or 80% (the range is checked later, with a hint)."""
    percent = text.strip().endswith("%")
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction such as 0.8 or 80%, got {text!r}"
        ) from None
    return value / 100.0 if percent else value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `erlang` on `subparsers`; its `run` default is `run_erlang`."""
    p = subparsers.add_parser(
        "erlang",
        help=help_of("erlang"),
        description=__doc__.split("\n\n")[2],
        epilog="Exit status: 0 printed; 1 a target no number of agents reaches, or an "
        "unstable staffing among --agents (Erlang C: no more agents than the load); 2 a "
        "command line argparse refuses, or figures out of range (named, e.g. a --target-sl "
        "that is not a fraction).",
    )
    rate = p.add_mutually_exclusive_group(required=True)
    rate.add_argument("--calls-per-hour", type=float, metavar="N", help="arrival rate")
    rate.add_argument("--calls-per-second", type=float, metavar="N", help="arrival rate")
    p.add_argument(
        "--aht",
        type=float,
        required=True,
        metavar="SECONDS",
        help="average handling time: talk plus after-call work",
    )
    p.add_argument(
        "--patience",
        type=float,
        metavar="SECONDS",
        help="callers' mean patience before hanging up (Erlang A); omit for Erlang C",
    )
    p.add_argument(
        "--within",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="service-level threshold T (default 20)",
    )
    p.add_argument(
        "--target-sl",
        type=_fraction,
        metavar="FRACTION",
        help="answered within T / (answered + abandoned after T), e.g. 0.8 or 80%%",
    )
    p.add_argument(
        "--target-answered-within",
        type=_fraction,
        metavar="FRACTION",
        help="answered within T / all calls",
    )
    p.add_argument(
        "--target-asa",
        type=float,
        metavar="SECONDS",
        help="longest acceptable mean wait of answered calls",
    )
    p.add_argument(
        "--max-occupancy",
        type=_fraction,
        metavar="FRACTION",
        help="highest acceptable fraction of agents busy",
    )
    p.add_argument(
        "--max-abandon",
        type=_fraction,
        metavar="FRACTION",
        help="highest acceptable abandonment (Erlang A)",
    )
    p.add_argument(
        "--target-answer-rate",
        type=_fraction,
        metavar="FRACTION",
        help="lowest acceptable answered / offered (Erlang A)",
    )
    p.add_argument(
        "--agents",
        type=int,
        nargs="+",
        metavar="N",
        help="evaluate these staffings instead of searching",
    )
    p.add_argument(
        "--around",
        type=int,
        default=2,
        metavar="K",
        help="with a target, also show K staffings either side (default 2)",
    )
    p.set_defaults(run=run_erlang)


def _error(message: str) -> None:
    print(f"acd erlang: error: {message}", file=sys.stderr)


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def _secs(x: float) -> str:
    return f"{x:.1f}"


def _describe_target(target: Target) -> str:
    t = f"{target.within_seconds:g} s"
    parts: list[str] = []
    if target.service_level is not None:
        parts.append(f"service level >= {_pct(target.service_level)} within {t}")
    if target.answered_within is not None:
        parts.append(f"answered within {t} >= {_pct(target.answered_within)} of calls")
    if target.max_asa_seconds is not None:
        parts.append(f"ASA <= {target.max_asa_seconds:g} s")
    if target.max_occupancy is not None:
        parts.append(f"occupancy <= {_pct(target.max_occupancy)}")
    if target.max_abandon is not None:
        parts.append(f"abandonment <= {_pct(target.max_abandon)}")
    if target.min_answer_rate is not None:
        parts.append(f"answer rate >= {_pct(target.min_answer_rate)}")
    return ", ".join(parts)


def format_table(
    traffic: Traffic,
    rows: list[Staffing | UnstableError],
    sl_seconds: float,
    *,
    marked: int | None = None,
    target: Target | None = None,
) -> str:
    """The plain-text table of `rows`; `marked` agents get a `<`; `target` adds a column."""
    t = f"{sl_seconds:g}s"
    erlang_a = traffic.patience_seconds is not None
    headers = ["agents", "occupancy", "P(wait)", f"SL {t}"]
    if erlang_a:
        headers += [f"ans<={t}", "abandoned"]
    headers += ["ASA s", "avg wait s", "queue"]
    if target is not None:
        headers.append("meets target")
    table: list[list[str]] = [headers]
    for row in rows:
        if isinstance(row, UnstableError):
            continue
        cells = [str(row.agents), _pct(row.occupancy), _pct(row.prob_wait), _pct(row.service_level)]
        if erlang_a:
            cells += [_pct(row.answered_within), _pct(row.prob_abandon)]
        cells += [
            _secs(row.asa_seconds),
            _secs(row.mean_wait_seconds),
            f"{row.mean_queue_length:.2f}",
        ]
        if target is not None:
            cells.append("yes" if target.met_by(row) else "no")
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines: list[str] = []
    body = iter(table[1:])
    for entry in [None, *rows]:
        if isinstance(entry, UnstableError):
            lines.append(f"  {entry.args[0]}")
            continue
        cells = headers if entry is None else next(body)
        mark = "<" if entry is not None and entry.agents == marked else " "
        line = "  ".join(cell.rjust(w) for cell, w in zip(cells, widths, strict=True))
        lines.append(f"{mark} {line}".rstrip())
    notes = [
        f"SL {t} = answered within {t} / (answered + abandoned after {t}), as engine/metrics.py",
    ]
    if erlang_a:
        notes.append(f"ans<={t} = answered within {t} / all calls")
    notes.append(
        "ASA = mean wait of answered calls; avg wait = mean wait of all calls; "
        "queue = mean calls waiting"
    )
    return "\n".join([*lines, "", *notes])


def _header(traffic: Traffic) -> str:
    model = "Erlang A (M/M/c+M)" if traffic.patience_seconds is not None else "Erlang C (M/M/c)"
    parts = [
        f"{model}: {traffic.calls_per_hour:g} calls/hour ({traffic.calls_per_second:.4g}/s)",
        f"AHT {traffic.aht_seconds:g} s",
    ]
    if traffic.patience_seconds is not None:
        parts.append(f"mean patience {traffic.patience_seconds:g} s")
    parts.append(f"load {traffic.load_erlangs:.2f} Erlangs")
    line = ", ".join(parts)
    if traffic.patience_seconds is None:
        line += "\ncallers never hang up (give --patience SECONDS for Erlang A)"
    return line


def run_erlang(args: argparse.Namespace) -> int:
    """Print agents needed (with targets) or the figures of `--agents`; exit status."""
    try:
        if args.calls_per_hour is not None:
            traffic = Traffic.per_hour(args.calls_per_hour, args.aht, args.patience)
        else:
            traffic = Traffic(args.calls_per_second, args.aht, args.patience)
        fractions = {
            "--target-sl": args.target_sl,
            "--target-answered-within": args.target_answered_within,
            "--max-occupancy": args.max_occupancy,
            "--max-abandon": args.max_abandon,
            "--target-answer-rate": args.target_answer_rate,
        }
        for flag, value in fractions.items():
            if value is not None and not 0 < value < 1:
                hint = f" (write {value / 100:g} or {value:g}%)" if 1 < value < 100 else ""
                raise ValueError(f"{flag} must be a fraction between 0 and 1{hint}, got {value:g}")
        target = Target(
            service_level=args.target_sl,
            within_seconds=args.within,
            answered_within=args.target_answered_within,
            max_asa_seconds=args.target_asa,
            max_occupancy=args.max_occupancy,
            max_abandon=args.max_abandon,
            min_answer_rate=args.target_answer_rate,
        )
        if args.around < 0:
            raise ValueError(f"--around must not be negative, got {args.around}")
        if args.agents is not None:
            for n in args.agents:
                if n < 1:
                    raise ValueError(f"--agents must be at least 1, got {n}")
                if n > MAX_AGENTS:
                    raise ValueError(f"--agents must be at most {MAX_AGENTS}, got {n}")
        elif target.empty:
            raise ValueError(
                "give a target (--target-sl, --target-answered-within, --target-asa, "
                "--max-occupancy, --max-abandon, --target-answer-rate) or --agents N"
            )
        if traffic.patience_seconds is None and (
            target.max_abandon is not None or target.min_answer_rate is not None
        ):
            raise ValueError(
                "--max-abandon and --target-answer-rate need --patience (Erlang A); "
                "in Erlang C no caller abandons"
            )
    except ValueError as error:
        _error(str(error))
        return 2

    t = target.within_seconds
    print(_header(traffic))
    if args.agents is not None:
        rows = staffing_table(traffic, sorted(set(args.agents)), t)
        if not target.empty:
            print(f"target: {_describe_target(target)}")
        print()
        print(format_table(traffic, rows, t, target=None if target.empty else target))
        unstable = [row for row in rows if isinstance(row, UnstableError)]
        if unstable:
            _error(
                f"{len(unstable)} staffing(s) unstable: Erlang C needs more agents than the "
                f"load of {traffic.load_erlangs:.2f} Erlangs"
            )
            return 1
        return 0

    print(f"target: {_describe_target(target)}")
    try:
        needed = agents_needed(traffic, target)
    except UnreachableTargetError as error:
        _error(str(error))
        return 1
    print(f"agents needed: {needed.agents}")
    print()
    low = max(1, needed.agents - args.around)
    if traffic.patience_seconds is None:
        # Rows at or below the load are unstable: show one, to say so, not several.
        low = max(low, math.floor(traffic.load_erlangs))
        low = max(low, 1)
    rows = staffing_table(traffic, list(range(low, needed.agents + args.around + 1)), t)
    print(format_table(traffic, rows, t, marked=needed.agents))
    return 0
