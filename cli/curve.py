"""`acd curve`: look at, scale, reshape and build surge curves (config/curves/README.md).

    acd curve show FILE                      totals per branch and hour, peak, morning/afternoon
    acd curve scale FILE --total N           the whole day to N calls (shape and mix kept)
    acd curve scale FILE --factor X          every branch times X
    acd curve scale FILE --branch B --total N      one branch to N calls a day
    acd curve scale FILE --branch B --factor X     one branch times X
    acd curve scale FILE --branch B --day-total N  grow one branch until the day is N calls
    acd curve reshape FILE --like OTHER      FILE's daily totals per branch, OTHER's shape
    acd curve build --total N --mix covid=0.3,general=0.7 --shape weekday,covid=covid
    acd curve shapes                         the named shapes `build` knows

FILE may be `-` (standard input). `scale`, `reshape` and `build` write the new curve
to `-o OUT` (and print a summary), or to standard output without `-o`, so steps
can be piped. Each written curve records its recipe (the commands that made it) in
its comments. Exit 0; 1 on a bad curve file or value (every problem printed to
standard error); 2 on bad usage.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from collections.abc import Collection

from acd.cli.commands import help_of
from acd.softphone_sim.curves import (
    INTERVAL_MINUTES,
    NOON_MINUTE,
    SEOUL_BRANCHES,
    SHAPES,
    Curve,
    CurveError,
    TooManyCalls,
    build,
    fill_day_with,
    format_curve,
    load_curve,
    parse_curve,
    reshape,
    scale,
    scale_branch,
    write_curve,
)


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number, got {text!r} (write 60000, not 60,000)"
        ) from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _number(value: float) -> str:
    """A number as the user would write it back: 60000, 1.1."""
    return str(int(value)) if value.is_integer() else repr(value)


def _known(args: argparse.Namespace) -> Collection[str] | None:
    spec: str = args.branches
    if spec == "any":
        return None
    return tuple(name.strip() for name in spec.split(",") if name.strip())


def _read(path: str, args: argparse.Namespace) -> Curve:
    if path == "-":
        return parse_curve(sys.stdin.read(), "stdin", source="<stdin>", known_branches=_known(args))
    return load_curve(path, known_branches=_known(args))


def _name(args: argparse.Namespace, default: str) -> str:
    if args.name:
        name: str = args.name
        return name
    if args.output:
        base: str = os.path.basename(args.output)
        return base[: -len(".csv")] if base.endswith(".csv") else base
    return default


def _emit(curve: Curve, args: argparse.Namespace) -> int:
    if not args.output:
        sys.stdout.write(format_curve(curve))
        return 0
    try:
        write_curve(curve, args.output)
    except OSError as exc:
        print(f"acd curve: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {_summary(curve)}")
    return 0


def _summary(curve: Curve) -> str:
    total = curve.total()
    parts = [
        f"{branch} {calls:,.1f} ({_pct(calls, total)})"
        for branch, calls in curve.by_branch().items()
    ]
    return (
        f"{total:,.1f} calls a day, {len(curve.rows)} intervals of {curve.interval_minutes} "
        f"minutes; {', '.join(parts)}"
    )


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _step(*words: str) -> str:
    return shlex.join(("acd", "curve", *words))


def _common_output(args: argparse.Namespace) -> list[str]:
    words: list[str] = []
    if args.branches != ",".join(SEOUL_BRANCHES):
        words += ["--branches", args.branches]
    if args.name:
        words += ["--name", args.name]
    if args.output:
        words += ["-o", args.output]
    return words


def _fail(command: str, error: Exception) -> int:
    if isinstance(error, CurveError):
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"acd curve {command}: {len(error.problems)} problem(s)", file=sys.stderr)
    else:
        print(f"acd curve {command}: {error}", file=sys.stderr)
    return 1


# --- show ---


def run_show(args: argparse.Namespace) -> int:
    """Print a curve's totals per branch and per hour, its peak and its
    morning/afternoon split."""
    try:
        curve = _read(args.file, args)
    except CurveError as error:
        return _fail("show", error)
    print(show(curve))
    return 0


def show(curve: Curve) -> str:
    """The report `acd curve show` prints."""
    total = curve.total()
    by_branch = curve.by_branch()
    lines = [
        f"{curve.name}: {total:,.1f} calls a day, {len(curve.rows)} intervals of "
        f"{curve.interval_minutes} minutes, {len(curve.branches)} branches"
    ]
    lines += [f"  recipe: {step}" for step in curve.recipe]
    lines.append("")
    width = max(9, *(len(b) for b in curve.branches))
    lines.append(
        f"{'branch':<{width}} {'calls':>10} {'share':>7} {'00-12':>7} {'12-24':>7}  peak hour"
    )
    for branch, calls in by_branch.items():
        hours = curve.by_hour(branch)
        peak_hour = max(range(24), key=lambda h: (hours[h], -h))
        lines.append(
            f"{branch:<{width}} {calls:>10,.1f} {_pct(calls, total):>7} "
            f"{_pct(calls * curve.share_before(NOON_MINUTE, branch), calls):>7} "
            f"{_pct(calls * (1 - curve.share_before(NOON_MINUTE, branch)), calls):>7}  "
            f"{peak_hour:02d}:00" + ("" if calls else " (no calls)")
        )
    morning = curve.share_before(NOON_MINUTE)
    lines.append(
        f"{'all':<{width}} {total:>10,.1f} {_pct(total, total):>7} "
        f"{_pct(total * morning, total):>7} {_pct(total * (1 - morning), total):>7}"
    )
    lines.append("")
    columns = [max(7, len(b)) for b in curve.branches]
    lines.append(
        f"{'hour':<5} {'calls':>9} {'share':>7}  "
        + " ".join(f"{b:>{w}}" for b, w in zip(curve.branches, columns, strict=True))
    )
    per_branch = [curve.by_hour(b) for b in curve.branches]
    for hour, calls in enumerate(curve.by_hour()):
        cells = " ".join(
            f"{values[hour]:>{w},.1f}" for values, w in zip(per_branch, columns, strict=True)
        )
        lines.append(f"{hour:02d}:00 {calls:>9,.1f} {_pct(calls, total):>7}  {cells}")
    lines.append("")
    start, calls = curve.peak()
    lines.append(
        f"peak interval: {_hhmm(start)}-{_hhmm(start + curve.interval_minutes)}, "
        f"{calls:,.1f} calls ({calls * 60 / curve.interval_minutes:,.0f} an hour)"
    )
    lines.append(
        f"morning 00:00-12:00: {total * morning:,.1f} calls ({_pct(total * morning, total)}); "
        f"afternoon 12:00-24:00: {total * (1 - morning):,.1f} calls "
        f"({_pct(total * (1 - morning), total)})"
    )
    return "\n".join(lines)


# --- scale ---


def run_scale(args: argparse.Namespace) -> int:
    """Scale a curve (or one branch) by a factor or to a daily total."""
    if args.day_total is not None and args.branch is None:
        return _fail("scale", ValueError("--day-total grows one branch: name it with --branch"))
    try:
        curve = _read(args.file, args)
    except CurveError as error:
        return _fail("scale", error)
    words = ["scale", args.file]
    if args.branch is not None:
        words += ["--branch", args.branch]
    if args.total is not None:
        figure = ["--total", _number(args.total)]
    elif args.factor is not None:
        figure = ["--factor", _number(args.factor)]
    else:
        figure = ["--day-total", _number(args.day_total)]
    words += figure + _common_output(args)
    step, name, notes = _step(*words), _name(args, curve.name), args.note
    try:
        if args.branch is None:
            result = scale(
                curve, factor=args.factor, total=args.total, step=step, name=name, notes=notes
            )
        elif args.day_total is not None:
            result = fill_day_with(
                curve, args.branch, args.day_total, step=step, name=name, notes=notes
            )
        else:
            result = scale_branch(
                curve,
                args.branch,
                factor=args.factor,
                total=args.total,
                step=step,
                name=name,
                notes=notes,
            )
    except TooManyCalls as error:  # the flag's figure made it: name the flag
        return _fail("scale", ValueError(f"{' '.join(figure)}: the curve would have {error}"))
    except ValueError as error:
        return _fail("scale", error)
    return _emit(result, args)


# --- reshape ---


def run_reshape(args: argparse.Namespace) -> int:
    """Keep FILE's per-branch daily totals, take OTHER's intraday shape."""
    try:
        curve = _read(args.file, args)
        like = _read(args.like, args)
    except CurveError as error:
        return _fail("reshape", error)
    step = _step("reshape", args.file, "--like", args.like, *_common_output(args))
    try:
        result = reshape(curve, like, step=step, name=_name(args, curve.name), notes=args.note)
    except ValueError as error:
        return _fail("reshape", error)
    return _emit(result, args)


# --- build ---


def _parse_mix(spec: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        branch, sep, share = item.partition("=")
        branch = branch.strip()
        if not sep or not branch:
            raise ValueError(f"--mix: expected BRANCH=SHARE, got {item!r}")
        if branch in mix:
            raise ValueError(f"--mix: {branch!r} is given twice")
        try:
            mix[branch] = float(share)
        except ValueError:
            raise ValueError(f"--mix: the share of {branch!r} is not a number: {share!r}") from None
    if not mix:
        raise ValueError("--mix: no branch given")
    return mix


def _parse_shape(spec: str) -> tuple[str, dict[str, str]]:
    default = "weekday"
    overrides: dict[str, str] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        branch, sep, shape = item.partition("=")
        if sep:
            overrides[branch.strip()] = shape.strip()
        else:
            default = item
    for shape in (default, *overrides.values()):
        if shape not in SHAPES:
            raise ValueError(f"--shape: unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    return default, overrides


def run_build(args: argparse.Namespace) -> int:
    """Build a curve from a daily total, a branch mix and named shapes."""
    try:
        mix = _parse_mix(args.mix)
        shape, overrides = _parse_shape(args.shape)
    except ValueError as error:
        return _fail("build", error)
    words = [
        "build",
        "--total",
        _number(args.total),
        "--mix",
        ",".join(f"{b}={_number(s)}" for b, s in mix.items()),
        "--shape",
        ",".join((shape, *(f"{b}={s}" for b, s in overrides.items()))),
        "--interval-minutes",
        str(args.interval_minutes),
        *_common_output(args),
    ]
    try:
        curve = build(
            args.total,
            mix,
            shape,
            branch_shapes=overrides,
            interval_minutes=args.interval_minutes,
            name=_name(args, "curve"),
            step=_step(*words),
            notes=args.note,
            known_branches=_known(args),
        )
    except TooManyCalls as error:  # the flag's figure made it: name the flag
        return _fail("build", ValueError(f"--total {_number(args.total)}: the curve would have "
                                         f"{error}"))
    except ValueError as error:
        return _fail("build", error)
    return _emit(curve, args)


# --- shapes ---


def run_shapes(args: argparse.Namespace) -> int:
    """List the named shapes with their morning share and peak."""
    from acd.softphone_sim.curves import shape_intervals

    for name, (description, _) in SHAPES.items():
        weights = shape_intervals(name, 15)
        peak = max(range(len(weights)), key=lambda i: (weights[i], -i))
        print(
            f"{name}: {description}; {100 * math.fsum(weights[:48]):.1f} % before noon, "
            f"busiest 15 minutes {_hhmm(peak * 15)}"
        )
    return 0


# --- the parser ---


def _add_common(parser: argparse.ArgumentParser, *, output: bool) -> None:
    parser.add_argument(
        "--branches",
        default=",".join(SEOUL_BRANCHES),
        metavar="LIST",
        help="the branch columns allowed (comma-separated; 'any' for any lower-case name); "
        "default: the Seoul deployment's",
    )
    if output:
        parser.add_argument(
            "-o", "--output", metavar="OUT", help="write the curve here (default: standard output)"
        )
        parser.add_argument("--name", help="the curve's name (default: OUT's file name)")
        parser.add_argument(
            "--note",
            action="append",
            default=[],
            metavar="TEXT",
            help="a comment line for the written file (repeatable)",
        )


EXIT_STATUS = (
    "Exit status: 0 done; 1 a curve or a flag's figure refused (every problem printed as "
    "FILE:LINE:COLUMN, or naming the flag), or an output that cannot be written; 2 a "
    "command line argparse refuses."
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `acd curve` and its sub-commands (each sets `run`)."""
    curve = subparsers.add_parser(
        "curve",
        help=help_of("curve"),
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=EXIT_STATUS,
    )
    sub = curve.add_subparsers(dest="curve_command", required=True, metavar="COMMAND")

    show_parser = sub.add_parser(
        "show", epilog=EXIT_STATUS,
        help="totals per branch and hour, peak interval, morning/afternoon split"
    )
    show_parser.add_argument("file", metavar="FILE", help="a curve CSV, or - for standard input")
    _add_common(show_parser, output=False)
    show_parser.set_defaults(run=run_show)

    scale_parser = sub.add_parser(
        "scale", epilog=EXIT_STATUS,
        help="scale a curve, or one branch, by a factor or to a daily total"
    )
    scale_parser.add_argument("file", metavar="FILE", help="a curve CSV, or - for standard input")
    how = scale_parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--total", type=_non_negative, metavar="N", help="calls a day (of --branch)")
    how.add_argument("--factor", type=_non_negative, metavar="X", help="multiply by X")
    how.add_argument(
        "--day-total",
        type=_non_negative,
        metavar="N",
        help="scale --branch so that the whole day comes to N calls",
    )
    scale_parser.add_argument("--branch", metavar="NAME", help="scale this branch only")
    _add_common(scale_parser, output=True)
    scale_parser.set_defaults(run=run_scale)

    reshape_parser = sub.add_parser(
        "reshape", epilog=EXIT_STATUS,
        help="keep FILE's daily totals per branch, take OTHER's intraday shape"
    )
    reshape_parser.add_argument("file", metavar="FILE", help="a curve CSV, or - for standard input")
    reshape_parser.add_argument(
        "--like", required=True, metavar="OTHER", help="the curve whose shape to take"
    )
    _add_common(reshape_parser, output=True)
    reshape_parser.set_defaults(run=run_reshape)

    build_parser = sub.add_parser(
        "build", epilog=EXIT_STATUS,
        help="a curve from a daily total, a branch mix and a named shape"
    )
    build_parser.add_argument("--total", type=_non_negative, required=True, metavar="N")
    build_parser.add_argument(
        "--mix",
        required=True,
        metavar="B=SHARE,...",
        help="each branch's share of the day (shares sum to 1), e.g. covid=0.3,general=0.7",
    )
    build_parser.add_argument(
        "--shape",
        default="weekday",
        metavar="SHAPE[,B=SHAPE...]",
        help=f"the intraday shape, optionally per branch; shapes: {', '.join(SHAPES)} "
        "(default: weekday)",
    )
    build_parser.add_argument(
        "--interval-minutes", type=int, default=15, choices=INTERVAL_MINUTES, metavar="M"
    )
    _add_common(build_parser, output=True)
    build_parser.set_defaults(run=run_build)

    shapes_parser = sub.add_parser(
        "shapes", epilog=EXIT_STATUS, help="list the named shapes build knows"
    )
    shapes_parser.set_defaults(run=run_shapes)
