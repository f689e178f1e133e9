"""The result of a replay: what `acd simulate --json` writes and the report reads.

Everything outside `run` depends only on the configuration, the curve and the
seed: two runs with one seed compare equal once `run` is removed.
"""

from __future__ import annotations

import msgspec


class Figures(msgspec.Struct, kw_only=True):
    """One row of the summary table (a queue, a pool, an interval, or the total)."""

    calls: int
    """Calls that reached the queue (joined)."""
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answer_rate: float | None
    service_level: float | None
    service_level_asterisk: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    longest_wait_seconds: float
    overflowed: int
    vendor_answered: int
    callbacks: int
    """Callbacks requested (virtual hold taken, or referred)."""
    blocked: int
    answered_within_sl: int = 0
    """The service level's numerator: answered within the queue's threshold."""
    abandoned_after_sl: int = 0
    """Abandoned after the threshold (with answered, the service level's denominator)."""


class PoolResult(msgspec.Struct, kw_only=True):
    kind: str
    agents: int
    """Agents of the pool who worked some part of the day."""
    answered: int
    handled: int
    occupancy: float | None
    aht_seconds: float | None


class VendorResult(msgspec.Struct, kw_only=True):
    max_concurrent: int
    max_per_hour: int | None
    max_per_day: int | None
    dialled: int
    answered: int
    failed: int
    peak_concurrent: int


class IntervalResult(msgspec.Struct, kw_only=True):
    start: str
    """Local time "HH:MM"."""
    arrivals: int
    """Calls that reached the IVR in the interval (first calls and redials)."""
    expected: float
    """What the curve asked for in the interval."""
    agents_staffed: int
    """Agents logged in and in service at the start of the interval."""
    capacity_calls: float
    """Calls the staffed agents could answer in the interval at the day's AHT."""
    longest_queue: int
    """Most calls in line at once during the interval, in all queues (sampled each
    minute): callers on the line and callbacks waiting for their turn together."""
    stage: int
    figures: Figures
    occupancy: dict[str, float | None]
    """Per pool."""
    vendor_calls: dict[str, int]
    """Calls sent to each vendor in the interval."""
    longest_queue_on_line: int = 0
    """Most callers on the line (on hold, their line up) at once during the interval,
    in all queues, sampled with `longest_queue`; callbacks are left out."""
    most_callbacks_waiting: int = 0
    """Most callbacks waiting for their turn at once (the caller's line down, their
    place in line kept), sampled with `longest_queue`. The two peaks may fall on
    different minutes: each is at most `longest_queue`, their sum at least it."""
    pools_staffed: dict[str, int] = {}
    """Agents of each pool logged in and in service at the start of the interval."""
    queues: dict[str, Figures] = {}
    """Per queue, the calls that joined it in the interval (as `figures`, which is
    their sum); a queue no call joined in the interval is left out."""


IDLE_OCCUPANCY_BELOW = 0.20
"""A pool is idle in an interval when its occupancy is under this share."""
IDLE_ABANDONED_AT_LEAST = 10
"""An idle pool is flagged when at least this many callers who joined in the interval
abandoned (a quiet night's few abandons are not flagged)..."""
IDLE_ABANDONED_SHARE_AT_LEAST = 0.05
"""...and when they are at least this share of the interval's offered calls (nor are
the few a busy hour always has)."""


class IdleSpan(msgspec.Struct, kw_only=True):
    """Consecutive intervals in which one pool had agents on duty who sat mostly idle
    (occupancy under `IDLE_OCCUPANCY_BELOW`) while callers abandoned (at least
    `IDLE_ABANDONED_AT_LEAST` and `IDLE_ABANDONED_SHARE_AT_LEAST` of offered, all
    queues): capacity the routing did not put to the callers who gave up."""

    pool: str
    start: str
    """Local time "HH:MM" at which the first interval of the span starts."""
    end: str
    """Local time "HH:MM" at which the last interval ends ("24:00" at midnight)."""
    intervals: int
    agents: int
    """Most agents of the pool in service at the start of one of the intervals."""
    occupancy_min: float
    occupancy_max: float
    abandoned: int
    """Callers who joined a queue in the span's intervals and abandoned."""
    offered: int
    """Calls offered in the span's intervals, all queues."""
    abandoned_by_queue: dict[str, int]
    """`abandoned` by queue, the most first; queues with none are left out."""


def find_idle_while_abandoning(
    intervals: list[IntervalResult], step_minutes: int = 15
) -> list[IdleSpan]:
    """The spans in which a pool sat idle while callers abandoned, by pool in the
    order the pools appear, then by time. An interval counts for a pool when the
    pool had time in service in it (its occupancy is defined) under
    `IDLE_OCCUPANCY_BELOW`, and the interval's abandoned calls reach both
    `IDLE_ABANDONED_AT_LEAST` and `IDLE_ABANDONED_SHARE_AT_LEAST` of its offered
    calls; consecutive counted intervals of one pool make one span. Computed from the
    intervals alone (`step_minutes` is their length), so a JSON result decoded later
    gives the same spans; a day with no such interval gives []."""
    pools: list[str] = []
    for iv in intervals:
        pools += [name for name in iv.occupancy if name not in pools]
    spans: list[IdleSpan] = []
    for pool in pools:
        run: list[IntervalResult] = []
        for interval in [*intervals, None]:  # None: the day's end closes the last run
            idle = interval is not None and _idle(interval, pool)
            # A run goes on only into the interval that starts as the last one ends.
            follows = (
                bool(run)
                and interval is not None
                and _minutes(interval.start) == _minutes(run[-1].start) + step_minutes
            )
            if run and not (idle and follows):
                spans.append(_span(pool, run, step_minutes))
                run = []
            if idle:
                assert interval is not None
                run.append(interval)
    return spans


def _minutes(hhmm: str) -> int:
    """Minutes after midnight of "HH:MM"."""
    hours, minutes = hhmm.split(":")[:2]
    return int(hours) * 60 + int(minutes)


def _idle(iv: IntervalResult, pool: str) -> bool:
    occupancy = iv.occupancy.get(pool)
    f = iv.figures
    return (
        occupancy is not None
        and occupancy < IDLE_OCCUPANCY_BELOW
        and f.abandoned >= IDLE_ABANDONED_AT_LEAST
        and f.abandoned >= IDLE_ABANDONED_SHARE_AT_LEAST * f.offered
    )


def _span(pool: str, run: list[IntervalResult], step_minutes: int) -> IdleSpan:
    occupancy = [iv.occupancy[pool] or 0.0 for iv in run]
    by_queue: dict[str, int] = {}
    for iv in run:
        for name, f in iv.queues.items():
            if f.abandoned:
                by_queue[name] = by_queue.get(name, 0) + f.abandoned
    end = _minutes(run[-1].start) + step_minutes
    return IdleSpan(
        pool=pool,
        start=run[0].start,
        end=f"{end // 60:02d}:{end % 60:02d}",
        intervals=len(run),
        agents=max(iv.pools_staffed.get(pool, 0) for iv in run),
        occupancy_min=min(occupancy),
        occupancy_max=max(occupancy),
        abandoned=sum(iv.figures.abandoned for iv in run),
        offered=sum(iv.figures.offered for iv in run),
        abandoned_by_queue=dict(sorted(by_queue.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


class RunInfo(msgspec.Struct, kw_only=True):
    wall_seconds: float
    events: int
    events_per_second: float
    calls_per_second: float
    peak_rss_mb: float


class IntervalBound(msgspec.Struct, kw_only=True):
    start: str
    arrivals: int
    agents: int
    vendor_seats: int
    answered_in_house: float
    """Calls the pooled in-house agents would answer (Erlang A)."""
    answered_with_vendors: float


class Bound(msgspec.Struct, kw_only=True):
    """The pooled limit of one replay, per interval and for the day: the share of
    calls any routing could answer with the staffing on duty (softphone_sim/bound.py)."""

    aht_seconds: float
    patience_seconds: float
    in_house: float | None
    """The day's limit as an answer rate, in-house agents only (None with no call)."""
    with_vendors: float | None
    intervals: list[IntervalBound]


class Result(msgspec.Struct, kw_only=True):
    config: str
    curve: str
    seed: int
    date: str
    calls: int
    """Calls that reached the IVR (first calls and redials)."""
    first_calls: int
    redials: int
    offered: int
    answered: int
    abandoned: int
    answer_rate: float | None
    service_level: float | None
    service_level_asterisk: float | None
    asa_seconds: float | None
    outcomes: dict[str, int]
    total: Figures
    queues: dict[str, Figures]
    pools: dict[str, PoolResult]
    vendors: dict[str, VendorResult]
    intervals: list[IntervalResult]
    stages: list[tuple[str, int]]
    """(local time, stage) for each surge stage change."""
    run: RunInfo
    bound: Bound | None = None
    """The pooled limit for the staffing on duty (None when nobody was answered)."""
    idle_while_abandoning: list[IdleSpan] = []
    """Where a pool sat idle while callers abandoned (`find_idle_while_abandoning`);
    [] on a day without."""
