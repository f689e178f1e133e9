"""The pooled limit: how many calls any routing could answer with the staffing a
replay had on duty.

The best any routing can do for a given staffing is the fully pooled system: every
agent on duty able to take every call. Per reporting interval, Erlang A (M/M/c+M)
with the interval's arrivals, the agents on duty at its start, the run's handle time
and the mean of the configured patience gives the share answered in closed form;
`with_vendors` adds the seats (`max_concurrent`) of every vendor whose contract is
open then. Summed over the intervals, the day's limit. The gap between a replay's
answer rate and the limit is what routing lost; the limit's own gap to 100 % is what
staffing lost.

Steady state per interval is the approximation: a queue built up in one interval
carries into the next in the replay but not here, so on a day that swings from
overload to calm the limit is a little optimistic right after the peak.
"""

from __future__ import annotations

import itertools
import math

from acd.config.schema import Patience, SiteConfig
from acd.engine import LocalTime, OpenHours, parse_offset
from acd.softphone_sim.erlang import Traffic, evaluate_erlang_a
from acd.softphone_sim.result import Bound, IntervalBound, Result


def mean_patience(model: Patience) -> float:
    """The mean of a patience model (seconds): exponential's mean, lognormal's
    median * exp(sigma^2 / 2), or the area under a table's survival curve."""
    if model.kind == "exponential":
        assert model.mean_seconds is not None
        return model.mean_seconds
    if model.kind == "lognormal":
        assert model.median_seconds is not None
        return model.median_seconds * math.exp(model.sigma**2 / 2)
    points = sorted((p.after_seconds, p.still_waiting) for p in model.points)
    area = 0.0
    for (t0, s0), (t1, s1) in itertools.pairwise(points):
        area += (t1 - t0) * (s0 + s1) / 2
    return area


NEVER_HANG_UP_SECONDS = 1e6
"""A mean patience past this is callers who never hang up (how a replay models Erlang
C): every caller is answered while the agents keep up, and in overload as many as
they can take (Erlang A has no steady state there)."""


def answered(arrivals: int, seconds: float, aht: float, patience: float, agents: int) -> float:
    """Calls of `arrivals` over `seconds` that `agents` pooled agents answer in Erlang A."""
    if arrivals == 0 or agents == 0:
        return 0.0
    capacity = agents * seconds / aht
    if patience > NEVER_HANG_UP_SECONDS:
        return min(float(arrivals), capacity)
    traffic = Traffic(arrivals / seconds, aht, patience)
    try:
        return arrivals * evaluate_erlang_a(traffic, agents, 20.0).answer_rate
    except ValueError:  # patience so long in such an overload the queue never settles
        return min(float(arrivals), capacity)


def pooled_limit(site: SiteConfig, result: Result, day_start: float) -> Bound | None:
    """The pooled limit of `result` (replayed from local midnight `day_start`, epoch
    seconds); None when it has no handle time (nobody answered) or no patience model."""
    aht = result.total.aht_seconds
    if aht is None or aht <= 0 or site.simulation is None:
        return None
    patience = mean_patience(site.simulation.patience)
    seconds = site.site.interval_minutes * 60.0
    offset = parse_offset(site.site.utc_offset)
    intervals: list[IntervalBound] = []
    hours = [
        (vendor.max_concurrent, OpenHours(vendor.hours) if vendor.hours is not None else None)
        for vendor in site.vendors.values()
    ]
    for k, interval in enumerate(result.intervals):
        at = LocalTime(day_start + k * seconds, offset)
        seats = sum(cap for cap, open_at in hours if open_at is None or open_at.is_open(at))
        agents = interval.agents_staffed
        intervals.append(
            IntervalBound(
                start=interval.start,
                arrivals=interval.arrivals,
                agents=agents,
                vendor_seats=seats,
                answered_in_house=answered(interval.arrivals, seconds, aht, patience, agents),
                answered_with_vendors=answered(
                    interval.arrivals, seconds, aht, patience, agents + seats
                ),
            )
        )
    arrivals = sum(i.arrivals for i in intervals)
    return Bound(
        aht_seconds=aht,
        patience_seconds=patience,
        in_house=sum(i.answered_in_house for i in intervals) / arrivals if arrivals else None,
        with_vendors=(
            sum(i.answered_with_vendors for i in intervals) / arrivals if arrivals else None
        ),
        intervals=intervals,
    )
