"""Surge curves: the expected calls of a day, per interval and IVR branch.

A curve is a CSV file (format in `config/curves/README.md`)::

    # normal-weekday: expected calls per 15-minute interval and IVR branch
    # recipe: acd curve build --total 14500 --mix covid=0.19,... --shape weekday,covid=covid
    start,covid,transport,water,general,directory,foreign,link
    00:00,0.4,0.1,0.2,1.3,0.1,0.03,0.05
    ...
    23:45,...

`start` is the local start of an interval ("HH:MM"); each branch column holds the
*expected* number of calls (a float) in that interval for that branch. Intervals are
of equal length, a divisor of the hour (1 to 60 minutes: workforce tools export 15,
30 or 60), inferred from the first two rows, and run from 00:00 to 24:00. An
interval holds at most `MAX_CALLS_PER_MINUTE` calls per minute of its length, all
branches together: a typo like 1e12 is refused, not drawn until memory runs out.

- `load_curve(path)` / `parse_curve(text, name)` read a curve or raise `CurveError`
  with every problem, each naming the file, line, column and field.
- `Curve.arrivals(seed)` draws a day of Poisson arrivals: per interval and branch
  N ~ Poisson(expected), then N uniform times in the interval.
- `scale`, `scale_branch`, `fill_day_with`, `reshape`, `build` make new curves;
  `write_curve` / `format_curve` write one back, with its recipe in the comments.
- `SHAPES` names the modelled intraday shapes `build` knows (`weekday`, `covid`,
  `flat`).

Pure: no clock; randomness only from the seed given to `arrivals`.
"""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import NamedTuple

import msgspec

SEOUL_BRANCHES: tuple[str, ...] = (
    "covid",
    "transport",
    "water",
    "general",
    "directory",
    "foreign",
    "link",
)
"""The IVR branches of the Seoul 120 deployment, in key order (0 COVID-19, 1 transport,
2 water, 3 general city affairs, 4 directory, 9 foreign languages; `link`: callers who
take the visible-ARS link branch)."""

DAY_MINUTES = 24 * 60
NOON_MINUTE = 12 * 60
INTERVAL_MINUTES: tuple[int, ...] = tuple(m for m in range(1, 61) if 60 % m == 0)
"""Interval lengths a curve may have: the divisors of the hour, 1 to 60 minutes."""
MAX_CALLS_PER_MINUTE = 1000
"""Most expected calls a curve may hold per minute of an interval, all branches
together (15,000 in a 15-minute interval, 1.44 million a day): ten times the peak
of Seoul 120's 80,000-call surge day (about 100 a minute), and a bound on the
memory a replay of the day takes (each call is a record until the day ends)."""

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})\Z")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_RECIPE = "recipe:"
_NOT_RECORDED = "(not recorded"
_TITLE = re.compile(r"\S+: expected calls per [0-9]+-minute interval and IVR branch\b")


# --- errors ---


class CurveProblem(msgspec.Struct, frozen=True):
    """One thing wrong with a curve file. `line` and `column` are 1-based (0: the whole
    file); `field` is the column's name ("start", a branch) or "" for a whole line."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        """`FILE:LINE:COL: FIELD: MESSAGE`, as `acd check` writes configuration errors."""
        where = self.file if self.line == 0 else f"{self.file}:{self.line}:{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class TooManyCalls(ValueError):
    """A curve made by `Curve.from_columns` (scaled, built, reshaped) would hold more
    than `MAX_CALLS_PER_MINUTE` calls a minute in an interval."""


class CurveError(Exception):
    """A curve was refused; `problems` holds every problem found, in file order."""

    problems: list[CurveProblem]

    def __init__(self, problems: Sequence[CurveProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


# --- the curve ---


class Arrival(NamedTuple):
    """One call of a drawn day: when (seconds since local midnight) and which branch."""

    at: float
    branch: str


class Curve(msgspec.Struct, frozen=True):
    """Expected calls per interval and branch over one local day.

    `rows[i]` is `(start minute, expected calls per branch in branches' order)`; the
    starts run 0, step, 2*step, ... up to 24:00 - step, step = `interval_seconds`.
    `recipe` is how it was made (the `acd curve` commands, oldest first); `notes` are
    free comment lines. Build one with `parse_curve`, `load_curve`, `build` or
    `Curve.from_columns`, which check the grid."""

    name: str
    interval_seconds: int
    branches: tuple[str, ...]
    rows: tuple[tuple[int, tuple[float, ...]], ...]
    recipe: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_columns(
        cls,
        name: str,
        interval_minutes: int,
        columns: Mapping[str, Sequence[float]],
        *,
        recipe: Sequence[str] = (),
        notes: Sequence[str] = (),
    ) -> Curve:
        """A curve from one sequence of expected calls per branch (every sequence one
        value per interval of the day). Raises ValueError on a bad grid or value,
        TooManyCalls (a ValueError) over `MAX_CALLS_PER_MINUTE` in an interval."""
        if interval_minutes not in INTERVAL_MINUTES:
            raise ValueError(
                f"interval of {interval_minutes} minutes: expected one of "
                f"{', '.join(map(str, INTERVAL_MINUTES))}"
            )
        count = DAY_MINUTES // interval_minutes
        if not columns:
            raise ValueError("a curve needs at least one branch")
        for branch, values in columns.items():
            if not _NAME.match(branch):
                raise ValueError(f"branch name {branch!r}: expected lower-case letters, digits, _")
            if len(values) != count:
                raise ValueError(
                    f"branch {branch!r}: {len(values)} values, expected {count} "
                    f"({interval_minutes}-minute intervals)"
                )
            for value in values:
                if not (math.isfinite(value) and value >= 0):
                    raise ValueError(f"branch {branch!r}: {value!r} is not a non-negative number")
        branches = tuple(columns)
        cap = MAX_CALLS_PER_MINUTE * interval_minutes
        for i in range(count):
            calls = math.fsum(columns[b][i] for b in branches)
            if calls > cap:
                raise TooManyCalls(
                    f"{calls:,.6g} calls in the {interval_minutes}-minute interval from "
                    f"{_hhmm(i * interval_minutes)}: at most {cap:,} (MAX_CALLS_PER_MINUTE "
                    f"{MAX_CALLS_PER_MINUTE:,} a minute)"
                )
        rows = tuple(
            (i * interval_minutes, tuple(float(columns[b][i]) for b in branches))
            for i in range(count)
        )
        return cls(name, interval_minutes * 60, branches, rows, tuple(recipe), tuple(notes))

    @property
    def interval_minutes(self) -> int:
        return self.interval_seconds // 60

    def column(self, branch: str) -> list[float]:
        """The expected calls of one branch, interval by interval (KeyError if absent)."""
        if branch not in self.branches:
            raise KeyError(branch)
        index = self.branches.index(branch)
        return [values[index] for _, values in self.rows]

    def columns(self) -> dict[str, list[float]]:
        return {branch: self.column(branch) for branch in self.branches}

    def interval_totals(self) -> list[float]:
        """Expected calls of all branches, interval by interval."""
        return [math.fsum(values) for _, values in self.rows]

    def expected_per_interval(
        self, interval_seconds: float, branch: str | None = None
    ) -> list[float]:
        """Expected calls (of one branch or all) in each interval of `interval_seconds`
        from local midnight, e.g. the 15-minute reporting intervals, whatever the
        curve's own step. Calls are spread evenly within the curve's intervals (as
        `arrivals` draws them); a last interval cut by midnight holds what is left."""
        length = float(interval_seconds)
        if not (math.isfinite(length) and length > 0):
            raise ValueError(
                f"interval of {interval_seconds!r} seconds: expected a positive length"
            )
        values = self.column(branch) if branch is not None else self.interval_totals()
        step = float(self.interval_seconds)
        out = [0.0] * math.ceil(DAY_MINUTES * 60 / length)
        for (start, _), value in zip(self.rows, values, strict=True):
            begin = start * 60.0
            end = begin + step
            for i in range(int(begin // length), min(len(out), math.ceil(end / length))):
                overlap = min(end, (i + 1) * length) - max(begin, i * length)
                if overlap > 0:
                    out[i] += value * overlap / step
        return out

    def total(self) -> float:
        """Expected calls in the day."""
        return math.fsum(math.fsum(values) for _, values in self.rows)

    def by_branch(self) -> dict[str, float]:
        """Expected calls in the day per branch, in column order."""
        return {branch: math.fsum(self.column(branch)) for branch in self.branches}

    def by_hour(self, branch: str | None = None) -> list[float]:
        """Expected calls per local hour (24 values), of one branch or all."""
        values = self.column(branch) if branch is not None else self.interval_totals()
        hours = [0.0] * 24
        for (start, _), value in zip(self.rows, values, strict=True):
            hours[start // 60] += value
        return hours

    def share_before(self, minute: int = NOON_MINUTE, branch: str | None = None) -> float:
        """The share of the day's calls (of one branch or all) starting before
        `minute` (noon by default): the field facts' 00:00-12:00 share. 0 for an
        empty curve."""
        values = self.column(branch) if branch is not None else self.interval_totals()
        whole = math.fsum(values)
        if whole == 0:
            return 0.0
        before = math.fsum(
            v for (start, _), v in zip(self.rows, values, strict=True) if start < minute
        )
        return before / whole

    def peak(self) -> tuple[int, float]:
        """The busiest interval: (start minute, expected calls); the earliest on a tie."""
        totals = self.interval_totals()
        best = max(range(len(totals)), key=lambda i: (totals[i], -i))
        return self.rows[best][0], totals[best]

    def arrivals(
        self,
        seed: int | random.Random,
        *,
        start_seconds: float = 0.0,
        end_seconds: float = float(DAY_MINUTES * 60),
    ) -> list[Arrival]:
        """A day of Poisson arrivals, sorted by time (then branch).

        For each interval in order and each branch in column order: N ~
        Poisson(expected) (`poisson`), then N times uniform in [start, start +
        interval). Deterministic for a seed (an int seeds a fresh `random.Random`;
        a `Random` is used as it is). The whole day is always drawn, and only the
        arrivals in [start_seconds, end_seconds) are returned, so a window's
        arrivals are exactly the whole day's arrivals that fall in it."""
        return [a for a in self.iter_arrivals(seed) if start_seconds <= a.at < end_seconds]

    def iter_arrivals(self, seed: int | random.Random) -> Iterator[Arrival]:
        """The same arrivals as `arrivals(seed)` (the same draws in the same order),
        yielded one interval at a time, so a replay holds one interval's worth in
        memory rather than the whole day's."""
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        length = float(self.interval_seconds)
        for start, values in self.rows:
            begin = start * 60.0
            end = begin + length
            drawn: list[Arrival] = []
            for branch, expected in zip(self.branches, values, strict=True):
                for _ in range(poisson(rng, expected)):
                    at = begin + rng.random() * length
                    if at >= end:  # floating rounding only; keep the interval half-open
                        at = math.nextafter(end, begin)
                    drawn.append(Arrival(at, branch))
            drawn.sort()
            yield from drawn


# --- Poisson sampling ---

_INVERSION_BELOW = 10.0


def poisson(rng: random.Random, mean: float) -> int:
    """One draw from Poisson(mean), exact for every mean.

    Below a mean of 10: inversion by sequential search (one uniform; at most a few
    dozen steps). From 10 up: Hörmann's PTRS, the transformed rejection with squeeze
    (W. Hörmann, "The transformed rejection method for generating Poisson random
    variables", Insurance: Mathematics and Economics 12, 1993), which accepts about
    9 draws in 10 at the first try whatever the mean; it is the method numpy uses.
    Both are exact, so no normal approximation is needed for large means."""
    if not (math.isfinite(mean) and mean >= 0):
        raise ValueError(f"Poisson mean {mean!r}: expected a finite non-negative number")
    if mean == 0:
        return 0
    if mean < _INVERSION_BELOW:
        return _poisson_inversion(rng, mean)
    return _poisson_ptrs(rng, mean)


def _poisson_inversion(rng: random.Random, mean: float) -> int:
    u = rng.random()
    k = 0
    p = math.exp(-mean)
    cumulative = p
    # exp(-mean) >= exp(-10) ~ 4.5e-5: no underflow. The cap guards against a u
    # that floating rounding leaves just above the computed cumulative sum.
    while u > cumulative and k < 1000:
        k += 1
        p *= mean / k
        cumulative += p
    return k


def _poisson_ptrs(rng: random.Random, mean: float) -> int:
    slam = math.sqrt(mean)
    loglam = math.log(mean)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + mean + 0.43) if us > 0 else -1
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(
            a / (us * us) + b
        ) <= -mean + k * loglam - math.lgamma(k + 1):
            return k


# --- reading ---


def load_curve(
    path: str | os.PathLike[str],
    *,
    known_branches: Collection[str] | None = SEOUL_BRANCHES,
    known_from: str = "known",
) -> Curve:
    """Read the curve at `path` (its name: the file name without `.csv`). Raises
    CurveError naming the file, also when it cannot be read or is not UTF-8.
    `known_branches` and `known_from` as for `parse_curve`."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise CurveError([CurveProblem(file, 0, 0, "", f"cannot read: {exc.strerror}")]) from exc
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is fine
    except UnicodeDecodeError as exc:
        raise CurveError(
            [CurveProblem(file, 0, 0, "", f"not UTF-8 text (byte {exc.start})")]
        ) from exc
    name = os.path.basename(file)
    if name.endswith(".csv"):
        name = name[: -len(".csv")]
    return parse_curve(
        text, name, source=file, known_branches=known_branches, known_from=known_from
    )


def parse_curve(
    text: str,
    name: str,
    *,
    source: str | None = None,
    known_branches: Collection[str] | None = SEOUL_BRANCHES,
    known_from: str = "known",
) -> Curve:
    """Parse a curve's text. `source` names the file in problems (default: `name`).

    `known_branches` are the column names allowed besides `start` (default: the
    Seoul deployment's); None allows any lower-case name. `known_from` says where
    they come from in the message about an unknown column ("known: a, b", or e.g.
    "simulation.branches of site.yaml: a, b"). A curve may leave a branch out (it
    has no calls). Every problem is collected before CurveError is raised."""
    return _Parser(text, name, source or name, known_branches, known_from).parse()


def _fields(line: str) -> list[tuple[int, str]]:
    """The comma-separated fields of a line with their 1-based columns, stripped."""
    fields: list[tuple[int, str]] = []
    column = 1
    for raw in line.split(","):
        stripped = raw.lstrip()
        fields.append((column + len(raw) - len(stripped), stripped.rstrip()))
        column += len(raw) + 1
    return fields


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Parser:
    def __init__(
        self,
        text: str,
        name: str,
        source: str,
        known: Collection[str] | None,
        known_from: str = "known",
    ) -> None:
        self.text = text.removeprefix("\ufeff")
        self.name = name
        self.source = source
        self.known = known
        self.known_from = known_from
        self.problems: list[CurveProblem] = []

    def problem(self, line: int, column: int, field: str, message: str) -> None:
        self.problems.append(CurveProblem(self.source, line, column, field, message))

    def parse(self) -> Curve:
        recipe: list[str] = []
        notes: list[str] = []
        content: list[tuple[int, str]] = []
        for number, line in enumerate(self.text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("#"):
                comment = stripped[1:].strip()
                if comment.startswith(_RECIPE):
                    command = comment[len(_RECIPE) :].strip()
                    if not command.startswith(_NOT_RECORDED):
                        recipe.append(command)
                elif not content and not recipe and not notes and _TITLE.match(comment):
                    pass  # the title line format_curve writes; rebuilt on writing
                else:
                    notes.append(comment)
            elif stripped:
                content.append((number, line))
        if not content:
            self.problem(0, 0, "", "no header: expected a line 'start,<branch>,<branch>,...'")
            raise CurveError(self.problems)
        header_line, header = content[0]
        branches = self.header(header_line, header)
        if not branches:  # no header, or no branch column: the rows cannot be read
            raise CurveError(self.problems)
        rows = self.rows(content[1:], branches, header_line)
        if self.problems:
            raise CurveError(self.problems)
        assert rows is not None
        step, parsed = rows
        return Curve(
            self.name,
            step * 60,
            tuple(branches),
            tuple(parsed),
            tuple(recipe),
            tuple(notes),
        )

    def header(self, number: int, line: str) -> list[str] | None:
        fields = _fields(line)
        first_column, first = fields[0]
        if _TIME.match(first) or _NUMBER.match(first):
            self.problem(
                number,
                first_column,
                "",
                f"missing header: expected 'start,<branch>,<branch>,...' before the "
                f"first row, got the row {line.strip()!r}",
            )
            return None
        if first != "start":
            self.problem(
                number, first_column, "", f"the first column must be 'start', got {first!r}"
            )
        if len(fields) < 2:
            allowed = ", ".join(self.known) if self.known is not None else "any lower-case name"
            self.problem(
                number, len(line) + 1, "", f"no branch columns: expected one or more of {allowed}"
            )
        branches: list[str] = []
        seen: set[str] = set()
        for column, branch in fields[1:]:
            branches.append(branch)
            if branch in seen:
                self.problem(number, column, branch, "duplicate column")
            elif self.known is not None and branch not in self.known:
                hint = _did_you_mean(branch, self.known)
                what = f"unknown branch {branch!r}" if branch else "empty column name"
                self.problem(
                    number,
                    column,
                    branch,
                    f"{what}{hint}; {self.known_from}: {', '.join(self.known)}",
                )
            elif self.known is None and not _NAME.match(branch):
                self.problem(
                    number,
                    column,
                    branch,
                    f"bad branch name {branch!r}: expected lower-case letters, digits and _",
                )
            seen.add(branch)
        return branches

    def rows(
        self, lines: list[tuple[int, str]], branches: list[str], header_line: int
    ) -> tuple[int, list[tuple[int, tuple[float, ...]]]] | None:
        expected_fields = len(branches) + 1
        parsed: list[tuple[int, tuple[float, ...]]] = []
        starts: list[tuple[int, int, int | None]] = []  # (line, column, minute or None)
        cells: list[tuple[int, list[tuple[int, str, float]]]] = []  # line, (column, branch, value)
        for number, line in lines:
            fields = _fields(line)
            if len(fields) != expected_fields:
                self.problem(
                    number,
                    1,
                    "",
                    f"{len(fields)} fields, expected {expected_fields} "
                    f"(start and {len(branches)} branch{'es' if len(branches) != 1 else ''}: "
                    f"{', '.join(branches)})"
                    + (
                        "; a decimal comma? write 2.5, not 2,5"
                        if len(fields) > expected_fields
                        else ""
                    ),
                )
            time_column, time_text = fields[0]
            minute = self.time(number, time_column, time_text)
            values: list[float] = []
            row: list[tuple[int, str, float]] = []
            for (column, text), branch in zip(fields[1:], branches, strict=False):
                value = self.value(number, column, branch, text)
                values.append(value if value is not None else 0.0)
                row.append((column, branch, values[-1]))
            cells.append((number, row))
            starts.append((number, time_column, minute))
            if minute is not None and len(values) == len(branches):
                parsed.append((minute, tuple(values)))
        step = self.grid(starts, header_line)
        if step is None:
            return None
        self.limit(cells, step)
        return step, parsed

    def limit(self, cells: list[tuple[int, list[tuple[int, str, float]]]], step: int) -> None:
        """At most MAX_CALLS_PER_MINUTE calls a minute in each interval: a value over
        the cap is named by its cell, a row over it by its line."""
        cap = MAX_CALLS_PER_MINUTE * step
        why = (
            f"at most {cap:,} in a {step}-minute interval ({MAX_CALLS_PER_MINUTE:,} a minute, "
            "ten times a surge day's peak: config/curves/README.md)"
        )
        for number, row in cells:
            over = [(column, branch, value) for column, branch, value in row if value > cap]
            for column, branch, value in over:
                self.problem(number, column, branch, f"{value:,.6g} calls: {why}")
            total = math.fsum(value for _, _, value in row)
            if not over and total > cap and row:
                self.problem(
                    number, row[0][0], "", f"the branches sum to {total:,.6g} calls: {why}"
                )

    def time(self, number: int, column: int, text: str) -> int | None:
        match = _TIME.match(text)
        if match is None:
            hint = ""
            if re.fullmatch(r"[0-9]:[0-9]{2}", text):
                hint = f" (write the hour with two digits: '0{text}')"
            self.problem(
                number,
                column,
                "start",
                f"expected a time HH:MM from 00:00 to 23:59, got {text!r}{hint}",
            )
            return None
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            self.problem(
                number,
                column,
                "start",
                f"expected a time HH:MM from 00:00 to 23:59, got {text!r}"
                + (" (an interval cannot start at the end of the day)" if text == "24:00" else ""),
            )
            return None
        return hour * 60 + minute

    def value(self, number: int, column: int, branch: str, text: str) -> float | None:
        if not _NUMBER.match(text):
            self.problem(
                number,
                column,
                branch,
                f"expected a non-negative number of calls, got {text!r}",
            )
            return None
        value = float(text)
        if not math.isfinite(value):
            self.problem(number, column, branch, f"expected a finite number of calls, got {text!r}")
            return None
        if value < 0:
            self.problem(
                number, column, branch, f"expected a non-negative number of calls, got {text!r}"
            )
            return None
        return value

    def grid(self, starts: list[tuple[int, int, int | None]], header_line: int) -> int | None:
        """Check the starts run 00:00, step, ..., 24:00 - step; the step comes from
        the first two rows. A start already reported unreadable is taken to be where
        it should be. Returns the step in minutes (None when it cannot be told)."""
        known = [(k, entry) for k, entry in enumerate(starts) if entry[2] is not None]
        if len(known) < 2:
            if len(starts) < 2:
                last = starts[-1][0] if starts else header_line
                self.problem(
                    last,
                    1,
                    "start",
                    "need at least two rows (the interval length is taken from the first two)",
                )
            return None
        (i, (line0, column0, first)), (j, (line1, column1, second)) = known[0], known[1]
        assert first is not None and second is not None
        if i == 0 and first != 0:
            self.problem(line0, column0, "start", f"the day starts at 00:00, got {_hhmm(first)}")
        if second == first:
            self.problem(
                line1,
                column1,
                "start",
                f"duplicated start {_hhmm(second)} (also on line {line0}): cannot tell the "
                "interval length",
            )
            return None
        if second < first:
            self.problem(
                line1,
                column1,
                "start",
                f"{_hhmm(second)} is not after {_hhmm(first)} on line {line0}: "
                "cannot tell the interval length",
            )
            return None
        step, odd = divmod(second - first, j - i)
        if odd or step not in INTERVAL_MINUTES:
            self.problem(
                line1,
                column1,
                "start",
                f"interval length {(second - first) / (j - i):g} minutes ({_hhmm(first)} to "
                f"{_hhmm(second)}): expected a length dividing the hour "
                f"({', '.join(map(str, INTERVAL_MINUTES))} minutes)",
            )
            return None  # the rest would be measured against a wrong step
        previous_line, previous = line1, second
        for number, column, minute in starts[j + 1 :]:
            if minute is None:  # reported already; assume it was the expected start
                previous_line, previous = number, previous + step
                continue
            if minute == previous:
                self.problem(
                    number,
                    column,
                    "start",
                    f"duplicated start {_hhmm(minute)} (also on line {previous_line})",
                )
                continue
            if minute < previous:
                self.problem(
                    number,
                    column,
                    "start",
                    f"{_hhmm(minute)} is out of order: after {_hhmm(previous)} on line "
                    f"{previous_line}, expected {_hhmm(previous + step)}",
                )
                continue
            if minute - previous != step:
                self.problem(
                    number,
                    column,
                    "start",
                    f"uneven intervals: {_hhmm(minute)} is {minute - previous} minutes after "
                    f"{_hhmm(previous)} on line {previous_line}; the first two rows set "
                    f"{step}-minute intervals, expected {_hhmm(previous + step)}",
                )
            previous_line, previous = number, minute
        last_line, last_column, _ = starts[-1]
        if previous + step < DAY_MINUTES:
            missing = (DAY_MINUTES - previous - step) // step
            self.problem(
                last_line,
                last_column,
                "start",
                f"the intervals end at {_hhmm(previous + step)}: the day must be covered to "
                f"24:00, expected rows up to {_hhmm(DAY_MINUTES - step)} "
                f"({missing or 'part of an'} interval{'s' if missing > 1 else ''} missing)",
            )
        elif previous + step > DAY_MINUTES:
            self.problem(
                last_line,
                last_column,
                "start",
                f"the last interval {_hhmm(previous)} runs past 24:00 with {step}-minute intervals",
            )
        return step


# --- writing ---


def _milli(values: Sequence[float]) -> list[int]:
    """Values rounded to thousandths (as integers) so that their sum is the rounded
    sum of the values (largest remainders): a column's daily total survives writing."""
    scaled = [v * 1000.0 for v in values]
    floors = [math.floor(s) for s in scaled]
    short = round(math.fsum(scaled)) - sum(floors)
    order = sorted(range(len(scaled)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for i in order[: max(0, short)]:
        floors[i] += 1
    return floors


def _decimal(milli: int) -> str:
    whole, part = divmod(milli, 1000)
    return f"{whole}.{part:03d}".rstrip("0").rstrip(".")


def format_curve(curve: Curve) -> str:
    """The curve as CSV text: a title comment, the recipe (how it was made), the
    notes, the header and one row per interval. Values are written to 0.001 call,
    rounded so that each branch's daily total is kept."""
    lines = [
        f"# {curve.name}: expected calls per {curve.interval_minutes}-minute interval "
        "and IVR branch (format: config/curves/README.md)"
    ]
    if curve.recipe:
        lines.extend(f"# {_RECIPE} {step}" for step in curve.recipe)
    else:
        lines.append(f"# {_RECIPE} {_NOT_RECORDED}: written by softphone_sim.curves.write_curve)")
    lines.extend(f"# {note}".rstrip() for note in curve.notes)
    lines.append(",".join(("start", *curve.branches)))
    columns = [_milli(curve.column(branch)) for branch in curve.branches]
    for i, (start, _) in enumerate(curve.rows):
        lines.append(",".join((_hhmm(start), *(_decimal(column[i]) for column in columns))))
    return "\n".join(lines) + "\n"


def write_curve(curve: Curve, path: str | os.PathLike[str]) -> None:
    """Write `format_curve(curve)` to `path`."""
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(format_curve(curve))


# --- transformations (each returns a new curve) ---


def _with(
    curve: Curve,
    columns: Mapping[str, Sequence[float]],
    *,
    step: str | None,
    name: str | None,
    notes: Sequence[str] | None,
    interval_minutes: int | None = None,
) -> Curve:
    return Curve.from_columns(
        name or curve.name,
        interval_minutes or curve.interval_minutes,
        columns,
        recipe=(*curve.recipe, step) if step else curve.recipe,
        notes=curve.notes if notes is None else notes,
    )


def scale(
    curve: Curve,
    *,
    factor: float | None = None,
    total: float | None = None,
    step: str | None = None,
    name: str | None = None,
    notes: Sequence[str] | None = None,
) -> Curve:
    """Every branch multiplied by `factor`, or by the factor that makes the day
    `total` calls (give exactly one). The shape and the branch mix are kept.
    `step` is appended to the recipe; `notes` replace the curve's notes."""
    factor = _factor(curve.total(), factor, total, "the curve")
    columns = {b: [v * factor for v in values] for b, values in curve.columns().items()}
    return _with(curve, columns, step=step, name=name, notes=notes)


def scale_branch(
    curve: Curve,
    branch: str,
    *,
    factor: float | None = None,
    total: float | None = None,
    step: str | None = None,
    name: str | None = None,
    notes: Sequence[str] | None = None,
) -> Curve:
    """One branch multiplied by `factor`, or scaled to `total` calls a day (give
    exactly one); the other branches are untouched. A branch the curve lacks is an
    error (add it with `build` or by hand)."""
    columns = curve.columns()
    if branch not in columns:
        raise ValueError(
            f"branch {branch!r} is not in the curve{_did_you_mean(branch, columns)}; "
            f"its branches: {', '.join(columns)}"
        )
    factor = _factor(math.fsum(columns[branch]), factor, total, f"branch {branch!r}")
    columns[branch] = [v * factor for v in columns[branch]]
    return _with(curve, columns, step=step, name=name, notes=notes)


def fill_day_with(
    curve: Curve,
    branch: str,
    day_total: float,
    *,
    step: str | None = None,
    name: str | None = None,
    notes: Sequence[str] | None = None,
) -> Curve:
    """Scale one branch (keeping its shape) so that the whole day comes to
    `day_total` calls, the other branches untouched: "the surge is all COVID"."""
    others = curve.total() - curve.by_branch().get(branch, 0.0)
    if not (math.isfinite(day_total) and day_total >= 0):
        raise ValueError(f"day total {day_total!r}: expected a non-negative number")
    if day_total < others:
        raise ValueError(
            f"the other branches already have {others:,.1f} calls, more than the day total "
            f"{day_total:,.1f}: scale them first"
        )
    return scale_branch(curve, branch, total=day_total - others, step=step, name=name, notes=notes)


def _factor(current: float, factor: float | None, total: float | None, what: str) -> float:
    if (factor is None) == (total is None):
        raise ValueError("give either a factor or a total")
    if factor is not None:
        if not (math.isfinite(factor) and factor >= 0):
            raise ValueError(f"factor {factor!r}: expected a non-negative number")
        return factor
    assert total is not None
    if not (math.isfinite(total) and total >= 0):
        raise ValueError(f"total {total!r}: expected a non-negative number")
    if current == 0:
        if total == 0:
            return 1.0
        raise ValueError(f"{what} has no calls: nothing to scale up to {total:,.1f}")
    return total / current


def reshape(
    curve: Curve,
    like: Curve,
    *,
    step: str | None = None,
    name: str | None = None,
    notes: Sequence[str] | None = None,
) -> Curve:
    """Keep `curve`'s daily total per branch, take `like`'s intraday shape (and its
    interval length). A branch takes the shape of the same branch in `like` when
    `like` has calls on it, else `like`'s shape over all branches."""
    overall = like.interval_totals()
    whole = math.fsum(overall)
    if whole == 0:
        raise ValueError(f"curve {like.name!r} has no calls: it has no shape to take")
    like_columns = like.columns()
    columns: dict[str, list[float]] = {}
    for branch, daily in curve.by_branch().items():
        shape = like_columns.get(branch)
        shape_total = math.fsum(shape) if shape is not None else 0.0
        if shape is None or shape_total == 0:
            shape, shape_total = overall, whole
        columns[branch] = [daily * v / shape_total for v in shape]
    return _with(
        curve, columns, step=step, name=name, notes=notes, interval_minutes=like.interval_minutes
    )


# --- modelled intraday shapes ---

# Relative call weight at the middle of each local hour (hh:30), interpolated
# linearly minute by minute (wrapping at midnight). Modelled, not field facts: the
# field facts give no intraday curve for the whole line. The shape is the trade's
# double-hump weekday: a ramp from 07:00 as offices open, a first peak 10:00-12:00,
# a lunch dip 12:00-13:00, a second peak 14:00-16:00, a fall after 18:00, and a
# night trickle (the 120 centre runs 24 hours with evening 18:00-01:00 and
# overnight 01:00-08:00 teams).
_WEEKDAY_HOURLY: tuple[float, ...] = (
    1.0,
    0.6,
    0.4,
    0.3,
    0.3,
    0.5,  # 00-05: overnight trickle
    1.0,
    2.5,
    5.5,
    9.0,
    10.0,
    9.8,  # 06-11: ramp, first peak 10-12
    7.2,
    8.6,
    9.9,
    9.6,
    8.4,
    6.8,  # 12-17: lunch dip, second peak 14-16
    4.4,
    3.2,
    2.6,
    2.2,
    1.8,
    1.3,  # 18-23: evening team
)

COVID_MORNING_SHARE = 422_387 / (422_387 + 697_614)
"""Field facts, 2020: COVID calls 00:00-12:00 over all COVID calls (37.7 %)."""


def _interpolate_hourly(hourly: Sequence[float]) -> list[float]:
    weights: list[float] = []
    for minute in range(DAY_MINUTES):
        t = (minute + 0.5 - 30.0) / 60.0  # hours since 00:30, the first anchor
        i = math.floor(t)
        frac = t - i
        weights.append(hourly[i % 24] * (1 - frac) + hourly[(i + 1) % 24] * frac)
    return weights


def _normalise(weights: Sequence[float]) -> tuple[float, ...]:
    whole = math.fsum(weights)
    return tuple(w / whole for w in weights)


def _weekday() -> tuple[float, ...]:
    return _normalise(_interpolate_hourly(_WEEKDAY_HOURLY))


def _covid() -> tuple[float, ...]:
    """The weekday shape tilted smoothly, w(t) * exp(k (t - 12:00) / 12 h), with k
    solved so that exactly 37.7 % of the day's weight falls 00:00-12:00 (field
    facts: 2020's COVID calls). Only the split is a field fact; the tilt is the
    least change to the weekday shape that gives it. The weekday shape alone puts
    38.0 % before noon (three busy hours before noon, five after), so the tilt is
    small: the field facts' COVID split is close to an ordinary office day's."""
    base = _weekday()

    def morning(k: float) -> float:
        tilted = [
            w * math.exp(k * (m + 0.5 - NOON_MINUTE) / NOON_MINUTE) for m, w in enumerate(base)
        ]
        return math.fsum(tilted[:NOON_MINUTE]) / math.fsum(tilted)

    low, high = -10.0, 10.0  # morning share falls as k rises
    for _ in range(200):
        mid = (low + high) / 2
        if morning(mid) > COVID_MORNING_SHARE:
            low = mid
        else:
            high = mid
    k = (low + high) / 2
    return _normalise(
        [w * math.exp(k * (m + 0.5 - NOON_MINUTE) / NOON_MINUTE) for m, w in enumerate(base)]
    )


def _flat() -> tuple[float, ...]:
    return _normalise([1.0] * DAY_MINUTES)


SHAPES: dict[str, tuple[str, Callable[[], tuple[float, ...]]]] = {
    "weekday": (
        "the double-hump call-centre weekday: peaks 10-12 and 14-16, lunch dip, "
        "night trickle (modelled)",
        _weekday,
    ),
    "covid": (
        "the weekday shape tilted smoothly so that exactly 37.7 % of the calls fall "
        "00:00-12:00 and 62.3 % 12:00-24:00 (the split is a field fact, the tilt modelled)",
        _covid,
    ),
    "flat": ("the same number of calls in every interval", _flat),
}
"""Named intraday shapes: name -> (description, per-minute weights summing to 1)."""


@cache
def shape_weights(name: str) -> tuple[float, ...]:
    """The named shape's weight for each minute of the day (1440 values, sum 1)."""
    if name not in SHAPES:
        raise ValueError(
            f"unknown shape {name!r}{_did_you_mean(name, SHAPES)}; known: {', '.join(SHAPES)}"
        )
    return SHAPES[name][1]()


def shape_intervals(name: str, interval_minutes: int) -> list[float]:
    """The named shape summed over each interval of the day (sums to 1)."""
    if interval_minutes not in INTERVAL_MINUTES:
        raise ValueError(
            f"interval of {interval_minutes} minutes: expected one of "
            f"{', '.join(map(str, INTERVAL_MINUTES))}"
        )
    weights = shape_weights(name)
    return [
        math.fsum(weights[start : start + interval_minutes])
        for start in range(0, DAY_MINUTES, interval_minutes)
    ]


MIX_TOLERANCE = 0.005


def build(
    total: float,
    mix: Mapping[str, float],
    shape: str = "weekday",
    *,
    branch_shapes: Mapping[str, str] | None = None,
    interval_minutes: int = 15,
    name: str = "curve",
    step: str | None = None,
    notes: Sequence[str] = (),
    known_branches: Collection[str] | None = SEOUL_BRANCHES,
) -> Curve:
    """A curve of `total` calls a day, split between branches by `mix` (shares that
    sum to 1 within 0.005, normalised exactly), each branch spread over the day by
    the named shape (`branch_shapes` overrides it per branch). Columns follow the
    mix's order."""
    if not (math.isfinite(total) and total >= 0):
        raise ValueError(f"total {total!r}: expected a non-negative number")
    if not mix:
        raise ValueError("the mix names no branch")
    for branch, share in mix.items():
        if known_branches is not None and branch not in known_branches:
            raise ValueError(
                f"unknown branch {branch!r} in the mix{_did_you_mean(branch, known_branches)}; "
                f"known: {', '.join(known_branches)}"
            )
        if not (math.isfinite(share) and share >= 0):
            raise ValueError(f"share of {branch!r}: {share!r} is not a non-negative number")
    shares = math.fsum(mix.values())
    if abs(shares - 1.0) > MIX_TOLERANCE:
        raise ValueError(
            f"the mix's shares sum to {shares:.4f}, expected 1 (within {MIX_TOLERANCE})"
        )
    overrides = dict(branch_shapes or {})
    for branch in overrides:
        if branch not in mix:
            raise ValueError(f"a shape is given for {branch!r}, which is not in the mix")
    columns: dict[str, list[float]] = {}
    for branch, share in mix.items():
        weights = shape_intervals(overrides.get(branch, shape), interval_minutes)
        daily = total * share / shares
        columns[branch] = [daily * w for w in weights]
    return Curve.from_columns(
        name, interval_minutes, columns, recipe=(step,) if step else (), notes=notes
    )
