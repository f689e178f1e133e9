"""The engine's whole state: one record made of the states its parts own.

Each part of the engine keeps what it must remember in a record of its own (the
surge stage in `SurgeState`, the timers in `TimerState`, a queue's routing indexes
in `QueueState`, a vendor's usage in `VendorState`, ...), and this record is made of
those records, not of copies: a field added to a part's state is in this record, so
it is exported and restored with no other change (`engine.persist`). The calls and
agents are the exception: the engine's live ones are compiled classes
(`engine.records`), stored as `CallRecord` and `AgentRecord`, whose fields a test
holds equal to theirs.

The parts' records are defined here, beside the whole, and the parts import them:
they are msgspec Structs, and a module mypyc compiles (the parts' logic, see
`acd.native`) cannot define one (it would lose its class keywords and defaults).

What is not here is derived from the configuration (queue rules, vendor-to-queue
links, each agent's routes), or belongs to the driver, not the floor (facts, change
tracking, the count of events handled).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from acd.engine.commands import Outcome
from acd.engine.conditions import Conditions
from acd.engine.metrics import Metrics
from acd.engine.routing import CallEntry
from acd.engine.sequences import Sequences
from acd.engine.states import AgentRequest, AgentState, CallState, PromptKind, TimerKind

Timer = tuple[float, int, TimerKind, str, int]
"""(at, seq, kind, key, token): a plain tuple, so that the heap orders it natively."""


class TimerLine(msgspec.Struct, array_like=True):
    """Timers that fall due in the order they were armed (every caller's first
    announcement in one queue, say): only the first one not yet fired is in the heap."""

    entries: list[Timer] = msgspec.field(default_factory=list)
    head: int = 0
    """`entries[head]` is the one in the heap; those before it have fired."""


class TimerState(msgspec.Struct, kw_only=True):
    """The timers armed (a heap, verbatim: ties stay in the order they were armed),
    and the lines whose first timer is in the heap (`engine.timers`)."""

    heap: list[Timer] = msgspec.field(default_factory=list)
    lines: dict[str, TimerLine] = msgspec.field(default_factory=dict)
    seq: int = 0


class CallRecord(msgspec.Struct, kw_only=True):
    """A call as the state stores it: the fields of `records.Call` (see there)."""

    id: str
    caller: str
    dnis: str
    arrived_at: float
    state: CallState = CallState.IVR
    language: str = ""
    # --- IVR ---
    node: str = ""
    tries: int = 0
    history: list[str] = msgspec.field(default_factory=list)
    # --- the prompt the flow waits for (0: none) and what its end means ---
    prompt_id: int = 0
    prompt_kind: PromptKind = ""
    protection_prompt_id: int = 0
    protection_done: bool = False
    # --- queue ---
    queue: str = ""
    priority: int = 0
    seq: int = 0
    enqueued_at: float = 0.0
    interval: int = 0
    step: int = 0
    version: int = 0
    ready_for_overflow: bool = False
    likely_to_give_up: bool = False
    overflow_vendors: list[str] = msgspec.field(default_factory=list)
    overflowed: bool = False
    callback_offered: bool = False
    callback: bool = False
    line_up: bool = True
    attempts: int = 0
    # --- service ---
    agent_id: str = ""
    vendor: str = ""
    offer_token: int = 0
    connected_at: float = 0.0
    outcome: Outcome | Literal[""] = ""
    outcome_recorded: bool = False


class AgentRecord(msgspec.Struct, kw_only=True):
    """An agent as the state stores it: the fields of `records.Agent` (see there)."""

    id: str
    name: str
    endpoint: str
    pool: str
    skills: dict[str, int]
    skill_sources: dict[str, str]
    shift: str | None
    roster_index: int
    state: AgentState = AgentState.LOGGED_OUT
    state_since: float = 0.0
    reason: str = ""
    call_id: str = ""
    wrap_queue: str = ""
    wrap_interval: int = 0
    version: int = 0
    missed: int = 0
    pending: AgentRequest = ""
    standby_due: bool = False
    pending_reason: str = ""
    last_call_end: float = 0.0
    handled_seconds: float = 0.0
    last_offer_seq: int = 0
    logged_in_at: float = 0.0
    wrap_token: int = 0
    cool_down_due: float = 0.0


class InboundRate(msgspec.Struct, array_like=True):
    """Arrivals of the last `len(buckets)` minutes, one bucket per minute (a ring;
    `engine.surge` counts into it and reads the rate)."""

    buckets: list[int]
    minute: int = 0
    """The minute (epoch minutes) the ring was last advanced to."""
    total: int = 0
    """The sum of the buckets."""


class SurgeState(msgspec.Struct, kw_only=True):
    stage: int = 0
    pinned: int | None = None
    """The stage a supervisor pinned (None: the rate decides)."""
    log: list[tuple[float, int]] = msgspec.field(default_factory=list)
    """(when, stage) for every change of stage, oldest first."""
    armed: bool = False
    """The minute's look at the rate is armed (while a stage is up, quiet minutes
    lower the rate too)."""
    inbound: InboundRate


StoredAgentEntry = tuple[tuple[int | float, ...], str, int]
"""A `routing.AgentEntry` as stored: strategy keys mix ints and floats, and each
must come back as what it was (equal is not enough for a byte-exact snapshot)."""


class QueueState(msgspec.Struct, kw_only=True):
    agent_heaps: dict[str, list[list[StoredAgentEntry]]]
    """Available agents by pool and level (`routing.AvailableAgents`)."""
    buckets: list[list[CallEntry]]
    """Waiting calls by relaxation step (`routing.WaitingCalls`)."""
    order: list[tuple[int, int]]
    """(-priority, seq) of every waiting call, sorted: places in line."""
    ready: list[CallEntry]
    """Waiting calls qualified for overflow (`routing.ReadyForOverflow`)."""
    staffed: int = 0
    """Agents staffing the queue (`states.STAFFED_STATES`): expected-wait estimates."""
    callbacks_in_line: int = 0
    """Waiting calls that are callbacks: their lines are down, so they do not
    fill the queue (`max_waiting` counts callers on hold)."""


class VendorState(msgspec.Struct, kw_only=True):
    """A contract's usage (persisted as it is)."""

    active: int = 0
    """Calls on the vendor's trunk now (dialling or connected)."""
    hour_index: int = -1
    """The local clock hour (hours since the epoch) `hour_count` counts."""
    hour_count: int = 0
    day_index: int = -1
    """The local day (days since the epoch) `day_count` counts."""
    day_count: int = 0
    rest_until: float = 0.0
    """Not tried before this time (its trunk just refused a call)."""
    wake_at: float | None = None
    """When the engine's next look at the vendor is armed for (a `vendor_free`
    timer), if one is; see `VendorContract.wake`."""


STATE_VERSION = 3

RngState = tuple[int, tuple[int, ...], float | None]
"""`random.Random.getstate()`."""


class EngineState(msgspec.Struct, kw_only=True, tag_field="version", tag=STATE_VERSION):
    """The engine's state (format `version` 3). Encodes to MessagePack or JSON as is."""

    site: str
    config_digest: str
    """The configuration it belongs to (`persist.config_digest`)."""
    now: float
    """The time of the last event handled."""
    started_at: float
    """When the engine first started (kept across restores)."""
    rng: RngState
    calls: list[CallRecord]
    """Every live call (ended calls leave)."""
    agents: list[AgentRecord]
    """Every agent of the roster, in roster order."""
    queues: dict[str, QueueState]
    vendors: dict[str, VendorState]
    metrics: Metrics
    surge: SurgeState
    conditions: Conditions
    timers: TimerState
    seq: Sequences
    anomalies: dict[str, int]
    """Bad or late input, counted by kind."""
    ended: list[str]
    """Calls that ended lately, oldest first (`Engine.has_ended`)."""
