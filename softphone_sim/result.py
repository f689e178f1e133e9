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
    """Most callers waiting at once during the interval (sampled each minute)."""
    stage: int
    figures: Figures
    occupancy: dict[str, float | None]
    """Per pool."""
    vendor_calls: dict[str, int]
    """Calls sent to each vendor in the interval."""


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
