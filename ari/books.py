"""The controller's books: what it remembers of the PBX, and what it reads to decide.

`Books` holds the legs of each call (ari/legs.py), the prompts the engine waits on,
the supervisions, the controller's own figures, and, read only, the site's settings
and the engine's view of its calls. The translator's functions take the books and
change them; nothing here does IO or reads a clock: the time an id is made at is an
argument (`now`), so the same books and inputs always give the same result.

Also here: the few primitives every part of the translator uses (a new leg, a
release, a failure counted and reported).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import msgspec

from acd.ari.brakes import Brakes
from acd.ari.effects import Effect, Quiet, Release, Report, Submit
from acd.ari.legs import CallLegs, Leg, LegKind, Supervision, leg_id
from acd.ari.ops import DestroyBridge, Failure
from acd.config.schema import Live, SiteConfig

if TYPE_CHECKING:
    from acd.engine import Call

MAX_SAMPLES = 100_000
"""At most this many latency samples of each kind are kept."""


class EngineView(Protocol):
    """What the translator reads of the engine: its calls, and which ended lately.
    (`acd.engine.Engine` is one; a test may pass a plain stand-in.)"""

    @property
    def calls(self) -> Mapping[str, Call]: ...

    def has_ended(self, call_id: str) -> bool: ...


class Stats(msgspec.Struct):
    """The controller's own figures (the engine keeps the contact-centre ones)."""

    calls: int = 0
    commands: int = 0
    stray_events: int = 0
    """Events for channels the controller does not know (another app's, or ended)."""
    rest_failures: int = 0
    reconciled_gone: int = 0
    reconciled_answered: int = 0
    reconciled_prompts: int = 0
    adopted: int = 0
    """Channels found in our application that we had not heard of (take-over, gap)."""
    handed_back: int = 0
    turned_away: int = 0
    """New callers the brakes kept out (live.admission): busy or the fallback."""
    bridges_removed: int = 0
    """Bridges of ours found empty and serving no call, destroyed (shutdown,
    reconciliation)."""
    outcomes: dict[str, int] = msgspec.field(default_factory=dict)
    first_command_ms: list[float] = msgspec.field(default_factory=list)
    """StasisStart receipt to the first REST call answered, per inbound call (bounded)."""
    bridge_ms: list[float] = msgspec.field(default_factory=list)
    """An agent's (or vendor's) leg answered (its StasisStart) to the caller and it
    bridged, per conversation (bounded)."""


@dataclass(frozen=True, slots=True)
class HangUpFeature:
    """When the playback ends: hang up the feature call `channel`."""

    channel: str


@dataclass(frozen=True, slots=True)
class Signal:
    """When the playback ends: tell whoever waits for it (`effects.Played`)."""


AfterPlayback = HangUpFeature | Signal


@dataclass
class Books:
    """Everything the translator knows; one per controller."""

    site: SiteConfig
    engine: EngineView
    app: str
    """Our Stasis application's name (a channel in another's is not ours)."""
    brakes: Brakes
    stats: Stats = field(default_factory=Stats)
    legs: dict[str, Leg] = field(default_factory=dict)
    calls: dict[str, CallLegs] = field(default_factory=dict)
    playbacks: dict[str, tuple[str, int]] = field(default_factory=dict)
    """playback id -> (call id, prompt id) for prompts the engine waits on."""
    requested: set[str] = field(default_factory=set)
    """Playbacks asked for whose request has not been answered yet."""
    after_playback: dict[str, AfterPlayback] = field(default_factory=dict)
    kept_bridges: set[str] = field(default_factory=set)
    """Agents' own talk bridges known to exist in Asterisk."""
    supervisions: dict[str, Supervision] = field(default_factory=dict)
    """Supervisors on calls, by the channel id of the supervisor's leg."""
    stopping: bool = False
    """Shutting down: new callers are handed back at once."""
    seq: int = 0
    agent_by_endpoint: dict[str, str] = field(init=False)
    """The site's agents by their phone's endpoint (`PJSIP/agent1001`)."""

    def __post_init__(self) -> None:
        self.agent_by_endpoint = {a.endpoint: a.id for a in self.site.agents}

    @property
    def live(self) -> Live:
        return self.site.live

    def unique(self, now: float) -> str:
        """Never the same twice in these books, nor (the time part) across restarts."""
        self.seq += 1
        return f"{self.seq}-{int(now * 1000) % 100_000_000}"

    def next_id(self, kind: str, now: float) -> str:
        return f"acd-{kind}-{self.unique(now)}"


def new_leg(books: Books, call: CallLegs, kind: LegKind, agent_id: str, now: float) -> Leg:
    """A leg we are about to make for `call`, named so a successor can tell whose it is."""
    leg = Leg(leg_id(kind, books.unique(now), call.call_id, agent_id), kind, call.call_id, agent_id)
    books.legs[leg.channel_id] = leg
    call.legs.append(leg.channel_id)
    return leg


def release(books: Books, channel: str, call_id: str, reason: str = "normal") -> list[Effect]:
    """The engine (or the controller) ends this leg itself: its end is no news; hang
    it up in the call's lane unless it has ended or been released already."""
    leg = books.legs.get(channel)
    if leg is None or leg.gone or leg.released:
        return []
    leg.released = True
    return [Submit(call_id, Release(channel, reason))]


def destroy_bridge(call_id: str, bridge: str) -> Submit:
    return Submit(call_id, Quiet(DestroyBridge(bridge)))


def quiet(books: Books, failure: Failure) -> list[Effect]:
    """A request whose failure changes nothing: counted and logged unless what it
    acted on was gone."""
    if failure.gone:
        return []
    books.stats.rest_failures += 1
    return [Report(logging.WARNING, failure.text, failure.status)]


def failed(books: Books, command: str, failure: Failure, *, caller_left: bool = False) -> Report:
    """Count a failed request done for the engine's `command`: a warning, unless what
    it acted on was gone (a channel that hung up, a finished playback), which happens
    every day, or the caller left while it was asked."""
    books.stats.rest_failures += 1
    level = logging.INFO if failure.gone or caller_left else logging.WARNING
    return Report(level, f"{command} failed: {failure.text}", failure.status)


def centre_number(books: Books, call_id: str) -> str:
    """The number the centre calls or writes from when `live.caller_id` is unset:
    the one the caller dialled (the call's DNIS, e.g. 120), so a called-back
    citizen sees the centre they called. "" when that is not a number (an INVITE
    without one arrives as "s"): no caller id rather than a name as a number."""
    call = books.engine.calls.get(call_id)
    dnis = call.dnis if call is not None else ""
    return dnis if dnis.lstrip("+").isdigit() else ""
