"""The live snapshot: what a wallboard shows, at any moment, as one typed record.

`take(engine, now)` reads the engine without changing it. It walks the live calls
and agents (O(calls + agents)): a wallboard asks a few times a second, the
routing path never does. The records encode to JSON or MessagePack as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from acd.engine.states import AgentState, CallState

if TYPE_CHECKING:
    from acd.engine.core import Engine

A = AgentState


class QueueView(msgspec.Struct, kw_only=True):
    name: str
    waiting: int
    """Callers in line now (callbacks waiting for their turn included)."""
    callbacks_waiting: int
    longest_wait_seconds: float
    """The longest current wait among callers in line."""
    agents_available: int
    agents_staffed: int
    figures: dict[str, float | int | None]
    """Since the start: offered, answered, answer rate, service level, ASA, ..."""


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


class VendorView(msgspec.Struct, kw_only=True):
    name: str
    active: int
    max_concurrent: int
    this_hour: int
    max_per_hour: int | None
    today: int
    max_per_day: int | None


class Snapshot(msgspec.Struct, kw_only=True):
    at: float
    site: str
    stage: int
    stage_pinned: bool
    distancing_level: str
    calls_in_ivr: int
    totals: dict[str, float | int | None]
    queues: list[QueueView]
    pools: list[PoolView]
    vendors: list[VendorView]
    agents: list[AgentView]
    anomalies: dict[str, int]


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
            if call.queue not in oldest or call.enqueued_at < oldest[call.queue]:
                oldest[call.queue] = call.enqueued_at
    available: dict[str, int] = dict.fromkeys(engine.queues, 0)
    pools: dict[str, dict[str, int]] = {name: {} for name in engine.config.pools}
    standby: dict[str, int] = dict.fromkeys(engine.config.pools, 0)
    for agent in engine.agents.values():
        by_state = pools[agent.pool]
        by_state[agent.state.value] = by_state.get(agent.state.value, 0) + 1
        if agent.state is A.PAUSED and agent.reason == "standby":
            standby[agent.pool] += 1
        if agent.state is A.AVAILABLE:
            for q, _level, _first in engine.routes_of(agent.id):
                available[q.name] += 1
    return Snapshot(
        at=now,
        site=engine.config.site.name,
        stage=engine.stage,
        stage_pinned=engine.stage_pinned is not None,
        distancing_level=engine.distancing_level,
        calls_in_ivr=in_ivr,
        totals=engine.metrics.total.summary(),
        queues=[
            QueueView(
                name=name,
                waiting=waiting[name],
                callbacks_waiting=callbacks[name],
                longest_wait_seconds=now - oldest[name] if name in oldest else 0.0,
                agents_available=available[name],
                agents_staffed=q.staffed,
                figures=engine.metrics.queues[name].summary(),
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
        agents=[
            AgentView(
                id=a.id,
                name=a.name,
                pool=a.pool,
                state=a.state.value,
                reason=a.reason,
                since=a.state_since,
                call_id=a.call_id,
                skills=dict(a.skills),
                missed=a.missed,
            )
            for a in engine.agents.values()
        ],
        anomalies=dict(engine.anomalies),
    )
