"""The engine's whole state: one record made of the states its parts own.

Each part of the engine keeps what it must remember in a record of its own (the
surge stage in `SurgeState`, the timers in `TimerState`, a queue's routing indexes
in `QueueState`, a vendor's usage in `VendorState`, ...), and this record is made of
those records, not of copies: a field added to a part's state is in this record, so
it is exported and restored with no other change (`engine.persist`).

What is not here is derived from the configuration (queue rules, vendor-to-queue
links, each agent's routes), or belongs to the driver, not the floor (facts, change
tracking, the count of events handled).
"""

from __future__ import annotations

import msgspec

from acd.engine.conditions import Conditions
from acd.engine.metrics import Metrics
from acd.engine.queues import QueueState
from acd.engine.records import Agent, Call
from acd.engine.sequences import Sequences
from acd.engine.surge import SurgeState
from acd.engine.timers import TimerState
from acd.engine.vendors import VendorState

STATE_VERSION = 2

RngState = tuple[int, tuple[int, ...], float | None]
"""`random.Random.getstate()`."""


class EngineState(msgspec.Struct, kw_only=True, tag_field="version", tag=STATE_VERSION):
    """The engine's state (format `version` 2). Encodes to MessagePack or JSON as is."""

    site: str
    config_digest: str
    """The configuration it belongs to (`persist.config_digest`)."""
    now: float
    """The time of the last event handled."""
    started_at: float
    """When the engine first started (kept across restores)."""
    rng: RngState
    calls: list[Call]
    """Every live call (ended calls leave)."""
    agents: list[Agent]
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
