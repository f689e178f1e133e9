"""The live snapshot: what a wallboard shows, at any moment, as one typed record.

`take(engine, now)` reads the engine without changing it. It walks the live calls
and agents (O(calls + agents)) and the day's intervals: a wallboard asks about once
a second, the routing path never does. The records encode to JSON or MessagePack as
they are; the web part sends them to browsers as they are, and the store keeps the
latest in the read model for wallboard servers without an engine.

Times (`at`, `since`, `oldest_since`, `start`) are epoch seconds on the engine's
clock, so a browser can tick a wait from them without a new snapshot.
"""

from __future__ import annotations

from itertools import accumulate
from typing import TYPE_CHECKING

import msgspec

from acd.engine.metrics import Interval, QueueCounters, WaitHistogram
from acd.engine.states import AgentState, CallState, shown

if TYPE_CHECKING:
    from acd.engine.core import Engine
    from acd.engine.records import Agent

A = AgentState
_EMPTY = QueueCounters()


class WaitsView(msgspec.Struct, kw_only=True):
    """The waits of one queue's calls with one outcome since the start, in the buckets
    of `Snapshot.wait_bounds`, cumulative as Prometheus's are."""

    buckets: list[int]
    """`buckets[i]`: calls that waited at most `wait_bounds[i]` seconds; one more at
    the end: all of them (`le="+Inf"`, equal to `count`)."""
    sum_seconds: float
    count: int


class QueueView(msgspec.Struct, kw_only=True):
    name: str
    waiting: int
    """Callers in line now (callbacks waiting for their turn included)."""
    callbacks_waiting: int
    longest_wait_seconds: float
    """The longest current wait among callers on the line (callbacks, whose line is
    down while they wait for their turn, are counted in `callbacks_waiting` only)."""
    oldest_since: float | None = None
    """When the longest-waiting caller on the line joined (None: nobody on the line)."""
    agents_available: int
    agents_staffed: int
    service_level_seconds: float = 20.0
    """T of this queue's service level."""
    figures: dict[str, float | int | None]
    """Since the start: offered, answered, answer rate, service level, ASA, ..."""
    interval: dict[str, float | int | None] = {}
    """The same figures for the current reporting interval alone."""
    outcomes: dict[str, int] = {}
    """Since the start, calls by outcome (`commands.Outcome`: answered, vendor_answered,
    abandoned, short_abandoned, blocked, callback_failed); "answered" is by our own
    agents here, where `figures` counts the vendors' too."""
    waits: dict[str, WaitsView] = {}
    """Since the start, the waits by outcome (`metrics.WAIT_OUTCOMES`); empty until
    the queue's first event, and in snapshots from before the histograms."""


class PoolView(msgspec.Struct, kw_only=True):
    name: str
    kind: str
    size: int | None
    """How many of its agents may be in service now (None: no cap)."""
    by_state: dict[str, int]
    standby: int
    occupancy: float | None


class AgentView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    pool: str
    state: str
    reason: str
    since: float
    call_id: str
    skills: dict[str, int]
    missed: int
    pending: str = ""
    """What the agent asked for that waits for the current call to end ("pause",
    "logout"; "" none)."""


class VendorView(msgspec.Struct, kw_only=True):
    name: str
    active: int
    max_concurrent: int
    this_hour: int
    max_per_hour: int | None
    today: int
    max_per_day: int | None


class IntervalView(msgspec.Struct, kw_only=True):
    """One reporting interval of the day so far (site totals)."""

    start: float
    arrived: int
    """Callers who reached the engine (IVR included)."""
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    answer_rate: float | None


class Snapshot(msgspec.Struct, kw_only=True):
    at: float
    speed: float = 1.0
    """How many times faster than the wall clock `at` runs: set by the live driver that
    took the snapshot (1 live; more in a compressed demo); the engine cannot know it."""
    site: str
    stage: int
    stage_pinned: bool
    stage_since: float = 0.0
    """When the current stage began (the engine's start if it never changed)."""
    inbound_calls_per_day: float = 0.0
    """The rolling inbound rate the automatic stages follow, in calls a day."""
    distancing_level: str
    calls_in_ivr: int
    announcement: list[str] = []
    """The emergency announcement in force (empty: none), for `announcement_queues`
    (all queues when empty)."""
    announcement_queues: list[str] = []
    totals: dict[str, float | int | None]
    interval_start: float = 0.0
    """When the current reporting interval began."""
    intervals: list[IntervalView] = []
    """The intervals since the engine started (or its state was restored), oldest first."""
    queues: list[QueueView]
    pools: list[PoolView]
    vendors: list[VendorView]
    agents: list[AgentView]
    anomalies: dict[str, int]
    wait_bounds: list[float] = []
    """The upper bounds (seconds, ascending) of the wait buckets in `QueueView.waits`:
    fixed per site, every service-level threshold among them."""


def take(engine: Engine, now: float) -> Snapshot:
    waiting: dict[str, int] = dict.fromkeys(engine.queues, 0)
    callbacks: dict[str, int] = dict.fromkeys(engine.queues, 0)
    oldest: dict[str, float] = {}
    in_ivr = 0
    for call in engine.calls.values():
        if call.state is CallState.IVR:
            in_ivr += 1
        elif call.state in (CallState.WAITING, CallState.RETRY_WAIT):
            waiting[call.queue] += 1
            if call.callback:
                callbacks[call.queue] += 1
            elif call.queue not in oldest or call.enqueued_at < oldest[call.queue]:
                oldest[call.queue] = call.enqueued_at
    available: dict[str, int] = dict.fromkeys(engine.queues, 0)
    pools: dict[str, dict[str, int]] = {name: {} for name in engine.config.pools}
    standby: dict[str, int] = dict.fromkeys(engine.config.pools, 0)
    for agent in engine.agents.values():
        by_state = pools[agent.pool]
        state, _reason = shown(agent.state, agent.reason)
        by_state[state] = by_state.get(state, 0) + 1
        if agent.state is A.STANDBY:
            standby[agent.pool] += 1
        if agent.state is A.AVAILABLE:
            for q, _level, _first in engine.routes_of(agent.id):
                available[q.name] += 1
    metrics = engine.metrics
    current = metrics.intervals.get(engine.interval_of(now))
    surge = engine.surge
    since = surge.since()
    return Snapshot(
        at=now,
        site=engine.config.site.name,
        stage=surge.stage,
        stage_pinned=surge.pinned is not None,
        stage_since=engine.started_at if since is None else since,
        inbound_calls_per_day=surge.rate(now),
        distancing_level=engine.conditions.distancing_level,
        calls_in_ivr=in_ivr,
        announcement=list(engine.conditions.announcement),
        announcement_queues=list(engine.conditions.announcement_queues),
        totals=metrics.total.summary(),
        interval_start=engine.interval_of(now) * metrics.interval_seconds - metrics.offset,
        intervals=[_interval_view(slot) for _index, slot in sorted(metrics.intervals.items())],
        queues=[
            QueueView(
                name=name,
                waiting=waiting[name],
                callbacks_waiting=callbacks[name],
                longest_wait_seconds=now - oldest[name] if name in oldest else 0.0,
                oldest_since=oldest.get(name),
                agents_available=available[name],
                agents_staffed=q.staffed,
                service_level_seconds=q.service_level,
                figures=metrics.queues[name].summary(),
                interval=(
                    current.queues[name].summary()
                    if current is not None and name in current.queues
                    else _EMPTY.summary()
                ),
                outcomes=metrics.queues[name].outcomes(),
                waits=_waits(metrics.queues[name].waits, metrics.wait_bounds),
            )
            for name, q in engine.queues.items()
        ],
        pools=[
            PoolView(
                name=name,
                kind=cfg.kind,
                size=engine.pool_cap(name),
                by_state=pools[name],
                standby=standby[name],
                occupancy=engine.metrics.pools[name].occupancy,
            )
            for name, cfg in engine.config.pools.items()
        ],
        vendors=[
            VendorView(
                name=name,
                active=v.active,
                max_concurrent=v.cfg.max_concurrent,
                this_hour=v.usage(now, engine.offset)[0],
                max_per_hour=v.cfg.max_per_hour,
                today=v.usage(now, engine.offset)[1],
                max_per_day=v.cfg.max_per_day,
            )
            for name, v in engine.vendors.items()
        ],
        agents=[_agent_view(a) for a in engine.agents.values()],
        anomalies=dict(engine.anomalies),
        wait_bounds=list(metrics.wait_bounds),
    )


def _interval_view(slot: Interval) -> IntervalView:
    total = slot.total  # rolled up from the interval's queues: once
    return IntervalView(
        start=slot.start,
        arrived=slot.arrived,
        offered=total.offered,
        answered=total.answered_all,
        abandoned=total.abandoned,
        service_level=total.service_level,
        answer_rate=total.answer_rate,
    )


def _agent_view(a: Agent) -> AgentView:
    state, reason = shown(a.state, a.reason)
    return AgentView(
        id=a.id,
        name=a.name,
        pool=a.pool,
        state=state,
        reason=reason,
        since=a.state_since,
        call_id=a.call_id,
        skills=dict(a.skills),
        missed=a.missed,
        pending=a.pending,
    )


def _waits(histogram: WaitHistogram | None, bounds: list[float]) -> dict[str, WaitsView]:
    """A queue's wait histogram, made cumulative, by outcome."""
    if histogram is None or histogram.bounds != bounds:
        return {}  # not started yet (no event in the queue since the start or restore)
    views: dict[str, WaitsView] = {}
    for outcome, counts in histogram.counts.items():
        cumulative = list(accumulate(counts))
        views[outcome] = WaitsView(
            buckets=cumulative, sum_seconds=histogram.sums[outcome], count=cumulative[-1]
        )
    return views
