"""What a wallboard receives: one `Update` per server-sent event, as JSON.

The stream (`GET /api/stream`, `text/event-stream`) sends

    id: <seq>
    event: update
    data: <Update as JSON, one line>

a full update on connect, then at most one a second while something changes, and an
`event: heartbeat` (data `{}`) every 15 s when nothing does, so a page can tell a
quiet floor from a dead stream. Every update is whole (the
latest wins; a client that missed some needs none of them). `seq` only grows within
one server run; after a reconnect with `Last-Event-ID`, the client gets the latest
update at once, whatever it missed.

Waits tick in the browser: the engine clock now is `snapshot.at + (t - t0) *
snapshot.speed`,
where `t0` is the browser's clock when the update arrived and `t` its clock now; a
queue's longest wait is then that minus `oldest_since`, an agent's time in state
that minus `since`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from acd.config.schema import Wallboard
from acd.engine.snapshot import Snapshot

AlertKind = Literal["service_level", "longest_wait", "vendor_cap", "agent_stuck"]


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """Something a supervisor must not miss, as of the update's snapshot."""

    kind: AlertKind
    subject: str
    """The queue, vendor or agent id it is about."""
    value: float
    """The figure that crossed: a service level (0-1), a wait or a time in state
    (seconds), a vendor's share of its tightest cap (0-1)."""
    threshold: float
    since: float | None = None
    """For waits and times in state: when it started (engine clock), so the page can
    tick the value on."""
    detail: str = ""
    """For vendors, the cap that is near ("concurrent", "hour", "day"); for agents,
    the state."""


class Names(msgspec.Struct, frozen=True, kw_only=True):
    """Display names from the configuration (id -> name; the id when none is set)."""

    queues: dict[str, str]
    pools: dict[str, str]
    vendors: dict[str, str]
    skills: dict[str, str]


class StageInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A configured surge stage (stage 0, normal service, is not listed)."""

    stage: int
    enter_at_calls_per_day: int
    leave_below_calls_per_day: int


class Update(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    names: Names
    snapshot: Snapshot
    alerts: list[Alert]
    service_level_target: float
    """The site's target (0-1), for drawing the line on charts."""
    thresholds: Wallboard
    """The site's alert thresholds (`wallboard:` in its configuration), so a page can
    colour a ticking wait as it crosses its limit between updates."""
    stages: list[StageInfo]
    surge_auto: bool
    """Whether the stages follow the inbound rate by themselves (`surge.auto`)."""
    time_zone: str
    """The site's local time as a UTC offset ("+09:00"): times of day are shown in it."""
    interval_seconds: float
    """The length of a reporting interval (`snapshot.interval_start` starts the current)."""
