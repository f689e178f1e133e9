"""The engine's whole state as one record, and back: for snapshots and take-over.

`export_state(engine)` returns an `EngineState` (a msgspec Struct, so it encodes to
MessagePack or JSON with no hand-written codec); `restore(config, state)` builds an
engine that is the same as the one exported: the same calls, agents, timers, routing
indexes (the heaps verbatim, not rebuilt, so the order of service and every tie
stay as they were), metrics, sequence numbers and random generator. Fed the same
events at the same times afterwards, both give the same commands.

What is not stored is derived from the configuration the restore is given (queue
rules, vendor-to-queue links, each agent's routes from its current skills and pool):
the configuration must be the one the state was made with (`config_digest`).

Pure: no IO. The store (`store/`) decides where the bytes go.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable

import msgspec

from acd.config.schema import SiteConfig
from acd.engine import events as ev
from acd.engine.core import Engine
from acd.engine.metrics import Interval, Metrics
from acd.engine.records import Agent, Call
from acd.engine.routing import CallEntry
from acd.engine.states import TimerKind

STATE_VERSION = 1
StoredAgentEntry = tuple[tuple[int | float, ...], str, int]
"""A `routing.AgentEntry` as stored: strategy keys mix ints and floats, and each
must come back as what it was (equal is not enough for a byte-exact snapshot)."""
_NO_INTERVAL = -(1 << 62)


class QueueState(msgspec.Struct, kw_only=True):
    agent_heaps: dict[str, list[list[StoredAgentEntry]]]
    pushes: int
    buckets: list[list[CallEntry]]
    order: list[tuple[int, int]]
    ready: list[CallEntry]
    staffed: int
    callbacks_in_line: int


class VendorState(msgspec.Struct, kw_only=True):
    active: int
    hour_index: int
    hour_count: int
    day_index: int
    day_count: int
    rest_until: float


class EngineState(msgspec.Struct, kw_only=True):
    version: int = STATE_VERSION
    site: str
    config_digest: str
    now: float
    rng: tuple[int, tuple[int, ...], float | None]
    calls: list[Call]
    agents: list[Agent]
    queues: dict[str, QueueState]
    vendors: dict[str, VendorState]
    metrics: Metrics
    inbound: tuple[list[int], int, int]
    stage: int
    stage_pinned: int | None
    distancing_level: str
    announcement: list[str]
    announcement_queues: list[str]
    stage_log: list[tuple[float, int]]
    surge_armed: bool
    anomalies: dict[str, int]
    ended: list[str]
    timers: list[tuple[float, int, TimerKind, str, int]]
    timer_seq: int
    prompt_seq: int
    queue_seq: int
    offer_seq: int
    referral_seq: int
    started_at: float | None = None
    """When the engine first started (None in states written before it was kept)."""


class StateMismatch(ValueError):
    """The state was made with another configuration or format version."""


def config_digest(config: SiteConfig) -> str:
    """A short fingerprint of the configuration a state belongs to."""
    return hashlib.sha256(msgspec.msgpack.encode(config)).hexdigest()[:16]


def export_state(engine: Engine) -> EngineState:
    """The engine's state now. The records are the engine's own objects: encode the
    result before the engine handles another event."""
    queues = {
        name: QueueState(
            agent_heaps=q.agents._heaps,
            pushes=q.agents._pushes,
            buckets=q.waiting.buckets,
            order=q.waiting._order,
            ready=q.ready._heap,
            staffed=q.staffed,
            callbacks_in_line=q.callbacks_in_line,
        )
        for name, q in engine.queues.items()
    }
    vendors = {
        name: VendorState(
            active=v.active,
            hour_index=v.hour_index,
            hour_count=v.hour_count,
            day_index=v.day_index,
            day_count=v.day_count,
            rest_until=v.rest_until,
        )
        for name, v in engine.vendors.items()
    }
    # The metrics' look-up cache points into `intervals`: not state, left out.
    metrics = msgspec.structs.replace(
        engine.metrics, _last_index=_NO_INTERVAL, _last=Interval(start=0.0)
    )
    version, internal, gauss = engine.rng.getstate()
    inbound = engine.inbound
    return EngineState(
        site=engine.config.site.name,
        config_digest=config_digest(engine.config),
        now=engine._now,
        started_at=engine.started_at,
        rng=(version, internal, gauss),
        calls=list(engine.calls.values()),
        agents=list(engine.agents.values()),
        queues=queues,
        vendors=vendors,
        metrics=metrics,
        inbound=(inbound._buckets, inbound._minute, inbound._total),
        stage=engine.stage,
        stage_pinned=engine.stage_pinned,
        distancing_level=engine.distancing_level,
        announcement=engine.announcement,
        announcement_queues=sorted(engine.announcement_queues),
        stage_log=engine.stage_log,
        surge_armed=engine._surge_armed,
        anomalies=engine.anomalies,
        ended=list(engine._ended),
        timers=engine._timers,
        timer_seq=engine._timer_seq,
        prompt_seq=engine._prompt_seq,
        queue_seq=engine._queue_seq,
        offer_seq=engine._offer_seq,
        referral_seq=engine._referral_seq,
    )


def replay(engine: Engine, journal: Iterable[tuple[ev.Event, float]]) -> int:
    """Feed journalled events as the live driver did: `handle`, then `next_deadline`
    (which drops timers that can no longer fire: it is part of the state's history).
    Returns how many events were fed."""
    n = 0
    for event, now in journal:
        engine.handle(event, now)
        engine.next_deadline()
        n += 1
    return n


def restore(config: SiteConfig, state: EngineState) -> Engine:
    """An engine in exactly the exported state. Raises StateMismatch if the state
    belongs to another configuration or format."""
    if state.version != STATE_VERSION:
        raise StateMismatch(f"state format {state.version}, this engine reads {STATE_VERSION}")
    if state.config_digest != config_digest(config):
        raise StateMismatch(
            f"the state of site {state.site!r} was made with another configuration"
        )
    rng = random.Random(0)  # the seed is replaced by the stored state at once
    rng.setstate(state.rng)
    engine = Engine(config, rng=rng, start=state.now)
    # The engine's timer predicates close over its dicts: fill them, do not replace.
    engine.calls.update((c.id, c) for c in state.calls)
    engine.agents.clear()
    engine.agents.update((a.id, a) for a in state.agents)
    for agent in engine.agents.values():
        engine._routes[agent.id] = engine._routes_of(agent)
    for name, qs in state.queues.items():
        q = engine.queues[name]
        q.agents._heaps = qs.agent_heaps
        q.agents._pushes = qs.pushes
        q.waiting.buckets = qs.buckets
        q.waiting._order = qs.order
        q.ready._heap = qs.ready
        q.staffed = qs.staffed
        q.callbacks_in_line = qs.callbacks_in_line
    for name, vs in state.vendors.items():
        v = engine.vendors[name]
        v.active, v.rest_until = vs.active, vs.rest_until
        v.hour_index, v.hour_count = vs.hour_index, vs.hour_count
        v.day_index, v.day_count = vs.day_index, vs.day_count
    # A state stored before the wait histograms existed: they start now, with the
    # site's bounds (the fresh engine's); for any other state, a no-op.
    state.metrics.adopt_wait_bounds(engine.metrics.wait_bounds)
    engine.metrics = state.metrics
    engine.inbound._buckets, engine.inbound._minute, engine.inbound._total = state.inbound
    engine.stage = state.stage
    engine.stage_pinned = state.stage_pinned
    engine.distancing_level = state.distancing_level
    engine.announcement = state.announcement
    engine.announcement_queues = frozenset(state.announcement_queues)
    engine.stage_log = state.stage_log
    engine.started_at = state.now if state.started_at is None else state.started_at
    engine._surge_armed = state.surge_armed
    engine.anomalies = state.anomalies
    engine._ended = dict.fromkeys(state.ended)
    engine._timers = state.timers
    engine._timer_seq = state.timer_seq
    engine._prompt_seq = state.prompt_seq
    engine._queue_seq = state.queue_seq
    engine._offer_seq = state.offer_seq
    engine._referral_seq = state.referral_seq
    return engine
