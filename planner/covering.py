"""The fewest seat-hours covering each interval's need: a small integer program.

Given per interval i a need n_i (agents), and shift patterns p, each on duty a share
a_pi of interval i (0 or 1 for shifts that start and end on the interval grid) at a
cost c_p (the seat-hours of one agent) with at most U_p agents, find whole
head-counts x_p >= 0 that minimise sum_p c_p x_p subject to sum_p a_pi x_p >= n_i for
every interval: the set-covering form of shift scheduling (Dantzig, "A comment on
Edie's 'Traffic delays at toll booths'", Operations Research 2(3):339-341, 1954).

The linear relaxation is solved through its dual, a packing problem
max n.y subject to A^T y <= c, y >= 0, whose origin is feasible (costs are positive),
so one phase of the simplex method suffices; Bland's rule (lowest index enters, lowest
basic index leaves among ties) rules out cycling. The head-counts are the dual's
shadow prices. Shifts that do not wrap round midnight give an interval matrix (the
ones of each column consecutive), which is totally unimodular, so the relaxation's
optimum is already whole; a shift across midnight, or one with two windows a day,
can make it fractional, and depth-first branch and bound on the most fractional
head-count then finds the whole optimum. A site has a handful of shift patterns and
at most 1,440 intervals, so the tableau has a handful of rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-9
"""Reduced costs, pivots and fractional parts below this are zero."""
MAX_NODES = 20_000
"""Branch-and-bound nodes at most; past it the best roster found is returned, unproven."""


class UncoverableError(ValueError):
    """Some interval's need cannot be covered: no pattern is on duty in it, or the
    patterns' caps (`Pattern.upper`) leave too few agents."""


@dataclass(frozen=True)
class Pattern:
    """One way of working the day: which share of each interval an agent is on duty
    (`coverage`), what one agent costs (`cost`, seat-hours), and how many agents it
    may have at most (`upper`, None: no limit)."""

    cost: float
    coverage: tuple[float, ...]
    upper: int | None = None


@dataclass(frozen=True)
class Cover:
    """The head-count of each pattern, in the patterns' order, and what it costs."""

    counts: tuple[int, ...]
    cost: float
    lower_bound: float
    """The linear relaxation's optimum: no roster costs less."""
    proven: bool
    """False when branch and bound stopped at `MAX_NODES` before proving `counts` best."""


def cover(need: Sequence[float], patterns: Sequence[Pattern]) -> Cover:
    """The whole head-counts of `patterns` of least total cost that give every interval
    at least its `need` (agents on duty, each counted by its share of the interval).

    Raises ValueError for a pattern whose coverage is not one value per interval in
    [0, 1] or whose cost is not positive, and UncoverableError (naming the first
    interval, 0-based) when no roster of these patterns meets the need."""
    n = len(need)
    for k, p in enumerate(patterns):
        if len(p.coverage) != n or any(not 0.0 <= a <= 1.0 for a in p.coverage):
            raise ValueError(f"pattern {k}: expected {n} coverage shares in [0, 1]")
        if not (math.isfinite(p.cost) and p.cost > 0):
            raise ValueError(f"pattern {k}: the cost must be positive, got {p.cost!r}")
    for i, wanted in enumerate(need):
        if wanted > EPS and not any(p.coverage[i] > 0 for p in patterns):
            raise UncoverableError(f"interval {i}: no pattern is on duty in it")
    upper: list[float] = [math.inf if p.upper is None else float(p.upper) for p in patterns]
    root = _relaxation(need, patterns, [0.0] * len(patterns), upper)
    if root is None:
        raise UncoverableError("the patterns' caps leave too few agents for the need")
    bound, x = root
    # Rounding every head-count up keeps the roster feasible (coverage is never
    # negative) and within the caps (whole caps): the first incumbent.
    best = tuple(
        min(math.ceil(v - 1e-6), int(u)) if u < math.inf else math.ceil(v - 1e-6)
        for v, u in zip(x, upper, strict=True)
    )
    best_cost = _cost(best, patterns)
    stack: list[tuple[list[float], list[float]]] = [([0.0] * len(patterns), upper)]
    nodes = 0
    proven = True
    while stack:
        lower, high = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            proven = False
            break
        solved = _relaxation(need, patterns, lower, high)
        if solved is None:
            continue
        value, x = solved
        if value >= best_cost - 1e-7:
            continue  # this branch cannot do better than the roster in hand
        fractional = [
            (abs(v - math.floor(v) - 0.5), k)
            for k, v in enumerate(x)
            if abs(v - round(v)) > 1e-6
        ]
        if not fractional:
            best = tuple(round(v) for v in x)
            best_cost = _cost(best, patterns)
            continue
        _, k = min(fractional)  # the most fractional head-count: closest to .5
        floor = math.floor(x[k])
        up_lower = list(lower)
        up_lower[k] = floor + 1.0
        down_high = list(high)
        down_high[k] = float(floor)
        stack.append((up_lower, high))
        stack.append((lower, down_high))  # popped first: the smaller head-count
    return Cover(counts=best, cost=best_cost, lower_bound=bound, proven=proven)


def _cost(counts: Sequence[float], patterns: Sequence[Pattern]) -> float:
    """What a covering costs (counts may be a relaxation's fractions)."""
    return math.fsum(c * p.cost for c, p in zip(counts, patterns, strict=True))


def _relaxation(
    need: Sequence[float],
    patterns: Sequence[Pattern],
    lower: Sequence[float],
    upper: Sequence[float],
) -> tuple[float, list[float]] | None:
    """The linear relaxation with lower <= x <= upper: (least cost, x), or None when
    infeasible. With x = lower + x', the dual of min c.x' s.t. A x' >= n - A lower,
    x' <= upper - lower is max (n - A lower).y - (upper - lower).z subject to
    A^T y - z <= c, y, z >= 0; x' is read from the reduced costs of its slacks."""
    k = len(patterns)
    if any(u < lo for lo, u in zip(lower, upper, strict=True)):
        return None
    residual = [
        wanted - math.fsum(p.coverage[i] * lo for p, lo in zip(patterns, lower, strict=True))
        for i, wanted in enumerate(need)
    ]
    # An interval already covered has a dual objective coefficient <= 0: its y never
    # enters, so it needs no column.
    open_rows = [i for i, r in enumerate(residual) if r > EPS]
    capped = [p for p in range(k) if upper[p] < math.inf]
    width = len(open_rows) + len(capped) + k
    slack0 = len(open_rows) + len(capped)
    table: list[list[float]] = []
    for p, pattern in enumerate(patterns):
        row = [pattern.coverage[i] for i in open_rows]
        row += [-1.0 if q == p else 0.0 for q in capped]
        row += [1.0 if q == p else 0.0 for q in range(k)]
        row.append(pattern.cost)  # the right-hand side
        table.append(row)
    reduced = [residual[i] for i in open_rows]
    reduced += [-(upper[q] - lower[q]) for q in capped]
    reduced += [0.0] * k
    reduced.append(0.0)  # minus the objective's value
    basis = [slack0 + p for p in range(k)]
    while True:
        entering = next((j for j in range(width) if reduced[j] > EPS), None)
        if entering is None:
            break
        leaving: int | None = None
        best_ratio = math.inf
        for r in range(k):
            a = table[r][entering]
            if a > EPS:
                ratio = table[r][-1] / a
                if ratio < best_ratio - EPS or (
                    ratio <= best_ratio + EPS and leaving is not None and basis[r] < basis[leaving]
                ):
                    best_ratio, leaving = ratio, r
        if leaving is None:
            return None  # the dual is unbounded: no roster within the bounds covers the need
        _pivot(table, reduced, leaving, entering)
        basis[leaving] = entering
    x = [lo + max(0.0, -reduced[slack0 + p]) for p, lo in enumerate(lower)]
    return _cost(x, patterns), x


def _pivot(table: list[list[float]], reduced: list[float], row: int, column: int) -> None:
    pivot_row = table[row]
    a = pivot_row[column]
    pivot_row[:] = [v / a for v in pivot_row]
    for r, other in enumerate(table):
        factor = other[column]
        if r != row and factor != 0.0:
            other[:] = [v - factor * w for v, w in zip(other, pivot_row, strict=True)]
    factor = reduced[column]
    reduced[:] = [v - factor * w for v, w in zip(reduced, pivot_row, strict=True)]
