"""The engine's whole state as one record, and back: for snapshots and take-over.

`export_state(engine)` returns an `EngineState` (`engine.state`: a msgspec Struct made
of the states the engine's parts own, so it encodes to MessagePack or JSON with no
hand-written codec); `restore(config, state)` builds an engine that is the same as
the one exported: the same calls, agents, timers, routing indexes (the heaps
verbatim, not rebuilt, so the order of service and every tie stay as they were),
metrics, sequence numbers and random generator. Fed the same events at the same
times afterwards, both give the same commands.

What is not stored is derived from the configuration the restore is given (queue
rules, vendor-to-queue links, each agent's routes from its current skills and pool):
the configuration must be the one the state was made with (`config_digest`).

`decode_state` reads a stored state of any format this engine knows, by its
`version` field: format 1 (flat, before the engine's parts owned their states) and
format 2 (before the timer lines) are upgraded on the way.

Pure: no IO. The store (`store/`) decides where the bytes go.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable

import msgspec

from acd.config.schema import SiteConfig
from acd.engine import events as ev
from acd.engine.conditions import Conditions
from acd.engine.core import Engine
from acd.engine.metrics import Metrics
from acd.engine.records import agent_record, call_record
from acd.engine.routing import CallEntry
from acd.engine.sequences import Sequences
from acd.engine.state import (
    STATE_VERSION,
    AgentRecord,
    CallRecord,
    EngineState,
    InboundRate,
    QueueState,
    RngState,
    StoredAgentEntry,
    SurgeState,
    TimerState,
    VendorState,
)
from acd.engine.states import AgentState, TimerKind

__all__ = [
    "STATE_VERSION",
    "EngineState",
    "EngineStateV1",
    "EngineStateV2",
    "StateMismatch",
    "config_digest",
    "decode_state",
    "export_state",
    "replay",
    "restore",
]


class StateMismatch(ValueError):
    """The state was made with another configuration or format version."""


def config_digest(config: SiteConfig) -> str:
    """A short fingerprint of the configuration a state belongs to."""
    return hashlib.sha256(msgspec.msgpack.encode(config)).hexdigest()[:16]


def export_state(engine: Engine) -> EngineState:
    """The engine's state now. The parts' records are the engine's own objects (the
    calls and agents copied into their stored records, their lists and dicts shared):
    encode the result before the engine handles another event."""
    version, internal, gauss = engine.rng.getstate()
    return EngineState(
        site=engine.config.site.name,
        config_digest=config_digest(engine.config),
        now=engine.now,
        started_at=engine.started_at,
        rng=(version, internal, gauss),
        calls=[call_record(c) for c in engine.calls.values()],
        agents=[agent_record(a) for a in engine.agents.values()],
        queues={name: q.state for name, q in engine.queues.items()},
        vendors={name: v.state for name, v in engine.vendors.items()},
        metrics=engine.metrics,
        surge=engine.surge.state,
        conditions=engine.conditions,
        timers=engine.timers.state,
        seq=engine.seq,
        anomalies=engine.anomalies,
        ended=engine.ended_calls(),
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
    """An engine in exactly the exported state (`decode_state` reads any stored
    format). Raises StateMismatch if the state belongs to another configuration."""
    if state.config_digest != config_digest(config):
        raise StateMismatch(
            f"the state of site {state.site!r} was made with another configuration"
        )
    rng = random.Random(0)  # the seed is replaced by the stored state at once
    rng.setstate(state.rng)
    return Engine(config, rng=rng, state=state)


# ---------------------------------------------------------------- format 1


class QueueStateV1(msgspec.Struct, kw_only=True):
    agent_heaps: dict[str, list[list[StoredAgentEntry]]]
    pushes: int
    buckets: list[list[CallEntry]]
    order: list[tuple[int, int]]
    ready: list[CallEntry]
    staffed: int
    callbacks_in_line: int


class EngineStateV1(msgspec.Struct, kw_only=True, tag_field="version", tag=1):
    """The state as engines before format 2 wrote it: one flat record."""

    site: str
    config_digest: str
    now: float
    rng: RngState
    calls: list[CallRecord]
    agents: list[AgentRecord]
    queues: dict[str, QueueStateV1]
    vendors: dict[str, VendorState]
    metrics: Metrics
    inbound: InboundRate
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


# ---------------------------------------------------------------- format 2


class EngineStateV2(EngineState, tag=2):
    """The state as engines before format 3 wrote it: the same fields, but no timer
    lines (its timers are all in the heap, which format 3 reads as it is), and an
    agent's rest, cool-down and standby kept as reasons of a wrap-up or a pause. An
    engine of format 2 would drop format 3's lines unread, so the formats differ."""


class _Format(msgspec.Struct):
    version: int


_FORMAT = msgspec.msgpack.Decoder(_Format)
_Decoder = (
    msgspec.msgpack.Decoder[EngineState]
    | msgspec.msgpack.Decoder[EngineStateV2]
    | msgspec.msgpack.Decoder[EngineStateV1]
)
_DECODERS: dict[int, _Decoder] = {
    1: msgspec.msgpack.Decoder(EngineStateV1),
    2: msgspec.msgpack.Decoder(EngineStateV2),
    STATE_VERSION: msgspec.msgpack.Decoder(EngineState),
}


def decode_state(data: bytes | msgspec.Raw) -> EngineState:
    """A stored state (MessagePack) of any format this engine reads, in the current
    format. Raises StateMismatch for a format it does not read, msgspec.DecodeError
    for bytes that are not a state."""
    version = _FORMAT.decode(data).version
    decoder = _DECODERS.get(version)
    if decoder is None:
        *before, last = (str(v) for v in sorted(_DECODERS))
        known = f"{', '.join(before)} and {last}" if before else last
        raise StateMismatch(f"state format {version}; this engine reads formats {known}")
    state = decoder.decode(data)
    if isinstance(state, EngineStateV1):
        return upgrade(state)
    if isinstance(state, EngineStateV2):
        _rests_and_standby_as_states(state.agents)
        return EngineState(**msgspec.structs.asdict(state))
    return state


_AS_STATES = {
    (AgentState.WRAP_UP, "missed"): AgentState.RESTING,
    (AgentState.WRAP_UP, "cool-down"): AgentState.COOLING_DOWN,
    (AgentState.WRAP_UP, "acw"): AgentState.WRAP_UP,
    (AgentState.PAUSED, "standby"): AgentState.STANDBY,
}


def _rests_and_standby_as_states(agents: list[AgentRecord]) -> None:
    """Formats 1 and 2 kept a missed-ring rest and a cool-down as a wrap-up with that
    reason, and standby as a pause with reason "standby": format 3 has states for
    them, and keeps `reason` for a pause's own."""
    for agent in agents:
        state = _AS_STATES.get((agent.state, agent.reason))
        if state is not None:
            agent.state, agent.reason = state, ""


def upgrade(old: EngineStateV1) -> EngineState:
    """The same state in the current format (nothing is lost: it holds every field)."""
    _rests_and_standby_as_states(old.agents)
    return EngineState(
        site=old.site,
        config_digest=old.config_digest,
        now=old.now,
        started_at=old.now if old.started_at is None else old.started_at,
        rng=old.rng,
        calls=old.calls,
        agents=old.agents,
        queues={
            name: QueueState(
                agent_heaps=q.agent_heaps,
                buckets=q.buckets,
                order=q.order,
                ready=q.ready,
                staffed=q.staffed,
                callbacks_in_line=q.callbacks_in_line,
            )
            for name, q in old.queues.items()
        },
        vendors=old.vendors,
        metrics=old.metrics,
        surge=SurgeState(
            stage=old.stage,
            pinned=old.stage_pinned,
            log=old.stage_log,
            armed=old.surge_armed,
            inbound=old.inbound,
        ),
        conditions=Conditions(
            distancing_level=old.distancing_level,
            announcement=old.announcement,
            announcement_queues=sorted(old.announcement_queues),
        ),
        timers=TimerState(heap=old.timers, seq=old.timer_seq),
        seq=Sequences(
            prompt=old.prompt_seq,
            queue=old.queue_seq,
            offer=old.offer_seq,
            referral=old.referral_seq,
        ),
        anomalies=old.anomalies,
        ended=old.ended,
    )
