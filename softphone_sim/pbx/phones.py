"""The far ends of the virtual PBX: the people and phones on the other side of each leg.

The virtual PBX (`softphone_sim.pbx`) plays Asterisk: it owns channels, bridges and
playbacks, speaks ARI to the engine's controller, and emits the events a real Asterisk
22 emits, in the same order (tests/fixtures/ari). It makes no decision a person would
make. Those are taken by far ends: a caller's phone, an agent's softphone, a vendor's
trunk, a called-back citizen. This module is the contract between the two halves:

- the PBX calls a far end's `on_*` methods when something reaches that person's ear or
  phone (a prompt starts, they are put on hold, they are bridged to someone, the line
  drops, an incoming call rings);
- the far end acts through the `Line` it was given (answer, reject, press a key, hang
  up), and schedules its own delays on `Pbx.clock`.

Everything runs on the PBX's event loop; no method blocks. All times are seconds of
virtual time (`Clock.now()`: epoch seconds, running `speed` times faster than the wall).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Virtual time: epoch seconds that run `speed` times faster than the wall clock."""

    speed: float

    def now(self) -> float:
        """Current virtual time (epoch seconds)."""
        ...

    def call_at(self, when: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` at virtual time `when` (at once if past); returns a cancel function."""
        ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` after `delay` virtual seconds; returns a cancel function."""
        ...


class Line(Protocol):
    """One channel as its far end sees it: the things a SIP phone can do."""

    @property
    def channel_id(self) -> str: ...

    @property
    def up(self) -> bool:
        """True while the channel exists (not yet hung up or destroyed)."""
        ...

    def answer(self) -> None:
        """200 OK on an incoming (originated or dialled) leg. On an answered originate
        to `app=acd` the PBX emits Dial ANSWER, then StasisStart with the appArgs."""
        ...

    def reject(self, cause: int) -> None:
        """Refuse an incoming leg with a Q.850 cause: 17 busy (SIP 486), 21 declined
        (603). The PBX emits what Asterisk emits for it (transcript 04)."""
        ...

    def press(self, digit: str) -> None:
        """Send one DTMF digit (0-9, *, #): ChannelDtmfReceived on this channel."""
        ...

    def hang_up(self) -> None:
        """The far end sends BYE: ChannelHangupRequest (no cause), then StasisEnd if the
        channel is in the app, ChannelLeftBridge if bridged, ChannelDestroyed cause 16."""
        ...


class FarEnd(Protocol):
    """What the PBX tells a person or phone. Every method has a no-op meaning: a far
    end that does not care about prompts simply ignores `on_media`."""

    def on_media(self, line: Line, media: list[str]) -> None:
        """A playback started that this line hears: played to the channel itself or to
        a bridge it is in. `media` are the media URIs as requested
        ("sound:custom/main-menu", "digits:5", ...)."""
        ...

    def on_playback_done(self, line: Line, media: list[str]) -> None:
        """That playback finished (done or stopped)."""
        ...

    def on_hold(self, line: Line) -> None:
        """The channel entered a holding bridge (the caller hears music: waiting starts)."""
        ...

    def on_bridged(self, line: Line, others: list[str]) -> None:
        """The channel is in a mixing bridge with `others` (channel ids): a conversation.
        Called whenever the set of others changes while it has at least one member."""
        ...

    def on_hangup(self, line: Line, cause: int) -> None:
        """The line went down from the PBX side (ARI DELETE, originate timeout, the far
        side of a bridge left and the controller hung this one up). Not called for the
        far end's own `hang_up()`."""
        ...


class Unmoved:
    """A far end that takes no notice of anything: the no-op meaning of every `FarEnd`
    method. Far ends inherit it and override only what they act on."""

    def on_media(self, line: Line, media: list[str]) -> None:
        pass

    def on_playback_done(self, line: Line, media: list[str]) -> None:
        pass

    def on_hold(self, line: Line) -> None:
        pass

    def on_bridged(self, line: Line, others: list[str]) -> None:
        pass

    def on_hangup(self, line: Line, cause: int) -> None:
        pass


class Phone(FarEnd, Protocol):
    """A far end that can be called: an agent's softphone, a vendor trunk, a citizen's
    phone for a callback."""

    def on_incoming(self, line: Line, caller_id: str) -> None:
        """A leg to this phone starts ringing (Dial RINGING). The phone answers, rejects,
        or lets it ring; the PBX ends an unanswered leg at the originate/dial timeout with
        cause 19 (no answer), as transcript 04 shows."""
        ...


class Pbx(Protocol):
    """What a population of simulated people may ask of the virtual PBX."""

    @property
    def clock(self) -> Clock: ...

    def place_inbound(self, caller: str, dnis: str, far_end: FarEnd) -> Line:
        """A call from the PSTN trunk (endpoint `PJSIP/pstn`) to `dnis`: the dialplan
        sends it to `Stasis(acd)` with no args. Returns at once; StasisStart follows.
        If no controller is connected to the app, the dialplan's next step runs: the
        caller hears nothing and is hung up (cause 16) and `far_end.on_hangup` is called."""
        ...

    def dial_feature(self, endpoint: str, args: list[str], far_end: FarEnd) -> Line:
        """A call placed by a registered endpoint (e.g. an agent's "PJSIP/agent1001")
        to a feature code the dialplan sends to `Stasis(acd,<args>)`, e.g. ["login"]."""
        ...

    def register(self, endpoint: str, phone: Phone) -> None:
        """Calls to `endpoint` (exact, e.g. "PJSIP/agent1001" or "PJSIP/vendor-a") ring
        `phone`. An endpoint with nobody registered is unreachable: the leg rings out
        until its timeout and ends with cause 19 (transcript 04, agent1004)."""
        ...

    def register_pattern(self, pattern: str, factory: Callable[[str], Phone]) -> None:
        """Calls to endpoints matching the fnmatch `pattern` (e.g. "PJSIP/*@pstn")
        ring `factory(endpoint)`: one phone per call, e.g. a citizen called back."""
        ...
