"""The ARI controller: Asterisk's events into engine events, engine commands into ARI.

The engine decides; the controller only translates, in both directions:

- an inbound channel entering `Stasis(acd)` with no args is a new call
  (`CallArrived`, caller = the channel's caller number, dnis = its dialplan exten);
  DTMF on it is `DigitPressed`, the end of a tracked playback `PromptFinished`, and
  the end of the channel (`StasisEnd` or `ChannelDestroyed`, whichever comes first)
  `CallerHungUp`;
- legs the controller originates carry their role in their Stasis args
  (`agent,<call>`, `vendor,<call>`, `callback,<call>`): their StasisStart is the far
  end answering; their end before that is a miss with Asterisk's cause (19 no answer,
  17 busy: transcript 04); after it, a hang-up (see `ari.legs.end_event`);
- an agent's call to a feature code (`Stasis(acd,login)`, `logout`, `pause`,
  `unpause`, `ready`) logs them in and so on; the agent is known by the endpoint;
- an agent's keys `live.abusive_dtmf` during a conversation flag the caller as abusive;
- a supervisor (`Supervise`) is rung on a leg `supervisor,<call>`; on answer, to listen
  or whisper, the agent's leg is snooped (`POST /channels/{id}/snoop`, spy both,
  whisper out: what the agent's phone is sent) into a snoop channel `snoop,<call>`,
  and the two are bridged in a spy bridge; to barge, the supervisor joins the call's
  talk bridge. Neither leg is ever news for the engine: when either the supervisor or
  the conversation ends, the rest is hung up and the spy bridge destroyed.

Commands run as REST calls in the order the engine gave them for each call (one
lane per call), concurrently across calls. A REST failure becomes an engine event:
a channel that is gone is a hang-up; an originate that fails is a miss (agents) or a
failure (vendors, callbacks); a prompt that cannot play has finished. Nothing here
raises out of the event loop: unknown channels and late events are counted.

After the events socket comes back from a gap, `reconcile` lists Asterisk's channels:
legs still there are kept (an agent leg found Up is taken as answered), legs that
vanished are settled as if their end had been seen, and prompts whose playback is
gone have finished.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ClassVar, Protocol, assert_never

import msgspec

from acd.ari import models
from acd.ari.brakes import Brakes
from acd.ari.client import AriClient, AriError
from acd.ari.clock import Clock
from acd.ari.legs import (
    HOLD_PREFIX,
    SPY_PREFIX,
    SUPERVISION_KINDS,
    TALK_PREFIX,
    CallLegs,
    Leg,
    LegKind,
    Supervision,
    end_event,
    endpoint_of,
    leg_id,
    parse_leg_id,
    playback_id,
    wait_announcement,
)
from acd.ari.unanswered import Unanswered
from acd.config.schema import SiteConfig
from acd.engine import CallState, Engine
from acd.engine import commands as cmd
from acd.engine import events as ev

log = logging.getLogger("acd.controller")

FEATURES: dict[str, Callable[[str, list[str]], ev.Event]] = {
    "login": lambda agent, _args: ev.AgentLogin(agent_id=agent),
    "logout": lambda agent, _args: ev.AgentLogout(agent_id=agent),
    "pause": lambda agent, args: ev.AgentPause(agent_id=agent, reason=args[0] if args else "break"),
    "unpause": lambda agent, _args: ev.AgentUnpause(agent_id=agent),
    "ready": lambda agent, _args: ev.AgentReady(agent_id=agent),
}
"""Feature codes an agent dials (`Stasis(acd,<feature>[,args])`): the engine event."""

HANDED_BACK_STATES = frozenset(
    {CallState.IVR, CallState.WAITING, CallState.OFFERED, CallState.VENDOR_DIALING}
)
"""Calls whose callers are told and handed back on shutdown (the others are talking,
hearing a last prompt, or have no line up)."""

SUPERVISOR_RING_SECONDS = 30.0
"""How long a supervisor's phone rings before the supervision is given up."""


class Lanes:
    """Per-call FIFO of REST work: one call's requests run in the engine's order (the
    channel is answered before a prompt plays), different calls run concurrently."""

    def __init__(self, spawn: Callable[[Coroutine[Any, Any, None]], object]) -> None:
        self._spawn = spawn
        self._queues: dict[str, deque[Callable[[], Awaitable[None]]]] = {}
        self.idle = asyncio.Event()
        self.idle.set()

    def submit(self, key: str, op: Callable[[], Awaitable[None]]) -> None:
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(op)
            return
        self._queues[key] = deque([op])
        self.idle.clear()
        self._spawn(self._drain(key))

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                try:
                    await queue[0]()
                except Exception:  # a bug in one op must not stop the call's lane
                    log.exception("ARI work for %s failed", key)
                queue.popleft()
        finally:
            del self._queues[key]
            if not self._queues:
                self.idle.set()

    def __len__(self) -> int:
        return len(self._queues)

    def busy(self, key: str) -> bool:
        """Work for `key` is queued or running."""
        return key in self._queues


class Keeper(Protocol):
    """Where the engine's inputs are kept (store/writer.py), and whether this engine
    may still act: the holder of the site's lease."""

    def record(self, event: ev.Event, now: float) -> None: ...

    def may_act(self) -> bool: ...

    async def confirm(self) -> bool: ...


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


FIRST_COMMAND_SAMPLES = 100_000


class Controller:
    """Drives one site's engine from one Asterisk application."""

    def __init__(
        self,
        site: SiteConfig,
        engine: Engine,
        client: AriClient,
        clock: Clock,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        keeper: Keeper | None = None,
        sync_clock: bool = False,
    ) -> None:
        self.sync_clock = sync_clock
        """Take the PBX's time on every (re)connection: for a virtual PBX running
        compressed time, across engine restarts."""
        self.site = site
        self.keeper = keeper
        self.stepped_down = False
        self._deferred: list[ev.Event] = []
        self.live = site.live
        self.engine = engine
        self.ari = client
        self.clock = clock
        self.stats = Stats()
        self.unanswered = Unanswered()
        """Requests Asterisk did not answer: logged as one line every few seconds."""
        self.brakes = Brakes(site.live.admission)
        client.on_round_trip = lambda seconds: self.brakes.round_trip(clock.now(), seconds)
        self.lanes = Lanes(spawn)
        self.legs: dict[str, Leg] = {}
        self.calls: dict[str, CallLegs] = {}
        self.playbacks: dict[str, tuple[str, int]] = {}
        """playback id -> (call id, prompt id) for prompts the engine waits on."""
        self._after_playback: dict[str, Callable[[], None]] = {}
        self._requested: set[str] = set()
        """Playbacks asked for whose request has not been answered yet."""
        self._holding: dict[str, asyncio.Future[bool]] = {}
        self._agent_by_endpoint = {a.endpoint: a.id for a in site.agents}
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._stopping = False
        self._stasis_seen: dict[str, float] = {}
        self._answered_at: dict[str, float] = {}
        self._kept_bridges: set[str] = set()
        """Agents' own talk bridges known to exist in Asterisk."""
        self.supervisions: dict[str, Supervision] = {}
        """Supervisors on calls, by the channel id of the supervisor's leg."""
        self._spawn = spawn

    # ------------------------------------------------------------------ the engine

    def feed(self, event: ev.Event) -> None:
        """Hand one event to the engine, journal it, and carry out its commands.

        While this engine cannot be sure it still holds the lease (it was paused, say),
        events wait until the store confirms; if the lease is lost, it steps down
        without acting."""
        if self.stepped_down:
            return
        keeper = self.keeper
        if keeper is not None and (self._deferred or not keeper.may_act()):
            self._deferred.append(event)
            if len(self._deferred) == 1:
                self._spawn(self._confirm_lease())
            return
        now = self.clock.now()
        commands = self.engine.handle(event, now)
        if keeper is not None:
            keeper.record(event, now)
        for command in commands:
            self.stats.commands += 1
            self._carry_out(command)
        self._arm_timer()

    def _carry_out(self, c: cmd.Command) -> None:
        """One engine command as ARI operations. Every kind of command is matched here:
        mypy's `assert_never` says so when the engine gains one this does not know."""
        match c:
            case cmd.Play():
                self._do_play(c)
            case cmd.StopPlayback():
                self._do_stop_playback(c)
            case cmd.CallOutcome():
                self._do_outcome(c)
            case cmd.Hold():
                self._do_hold(c)
            case cmd.AnnounceWait():
                self._do_announce(c)
            case cmd.RingAgent():
                self._do_ring(c)
            case cmd.CancelRing():
                self._do_cancel_ring(c)
            case cmd.Connect():
                self._do_connect(c)
            case cmd.Answer():
                self._do_answer(c)
            case cmd.HangupAgent():
                self._do_hangup_agent(c)
            case cmd.HangupCaller():
                self._do_hangup_caller(c)
            case cmd.DialVendor():
                self._do_dial_vendor(c)
            case cmd.CancelVendor():
                self._do_cancel_vendor(c)
            case cmd.DialCallback():
                self._do_dial_callback(c)
            case cmd.SendLink():
                self._do_send_link(c)
            case cmd.Supervise():
                self._do_supervise(c)
            case _:
                assert_never(c)

    async def _confirm_lease(self) -> None:
        assert self.keeper is not None
        if await self.keeper.confirm():
            events, self._deferred = self._deferred, []
            for event in events:
                self.feed(event)
        else:
            self.step_down()

    def step_down(self) -> None:
        """Stop acting at once (another engine holds the lease): no REST call, no
        timer, nothing more journalled. The calls are the new holder's."""
        self.stepped_down = True
        self._deferred.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm_timer(self) -> None:
        deadline = self.engine.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            delay = self.clock.to_wall(deadline - self.clock.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.feed(ev.TimerFired())

    def _unique(self) -> str:
        """Never the same twice in this process, nor (the time part) across restarts."""
        self._seq += 1
        return f"{self._seq}-{int(self.clock.now() * 1000) % 100_000_000}"

    def _next_id(self, kind: str) -> str:
        return f"acd-{kind}-{self._unique()}"

    # ------------------------------------------------------------------ ARI events

    async def run(self) -> None:
        """Consume the application's events until cancelled."""
        self._arm_timer()  # a restored engine has timers running already
        async for event in self.ari.events(self.reconcile):
            try:
                self.on_event(event)
            except Exception:  # one bad event must not stop the call centre
                log.exception("ARI event %s could not be handled", type(event).__name__)

    def on_event(self, event: models.Event) -> None:
        handler = self._events.get(type(event))
        if handler is not None:
            handler(self, event)

    def _on_stasis_start(self, e: models.StasisStart) -> None:
        ch = e.channel
        leg = self.legs.get(ch.id)
        if leg is not None:
            if not leg.answered and not leg.gone:
                self._answered(leg)
            return
        role = e.args[0] if e.args else ""
        if not e.args:
            self._inbound(ch)
        elif role in FEATURES:
            self._feature(ch, role, list(e.args[1:]))
        else:
            # A leg of ours from before a restart, or someone else's: not ours to keep.
            self.stats.stray_events += 1
            log.info("StasisStart of unknown channel %s (args %s): hung up", ch.id, e.args)
            self._spawn(self._quietly(self.ari.hangup(ch.id)))

    def _inbound(self, ch: models.Channel) -> None:
        if self._stopping:
            self._spawn(self._hand_back_new(ch.id))
            return
        if not self.brakes.admit(self.clock.now()):
            self._turn_away(ch.id)
            return
        self.stats.calls += 1
        call = CallLegs(call_id=ch.id, caller=ch.id, legs=[ch.id])
        self.calls[ch.id] = call
        self.legs[ch.id] = Leg(ch.id, "caller", call_id=ch.id, answered=True)
        if len(self.stats.first_command_ms) < FIRST_COMMAND_SAMPLES:
            self._stasis_seen[ch.id] = time.perf_counter()
        self.feed(ev.CallArrived(call_id=ch.id, caller=ch.caller.number, dnis=ch.dialplan.exten))

    def _turn_away(self, channel: str) -> None:
        """A new caller the brakes keep out: never answered, never seen by the
        engine; a busy signal (cause 17) or the dialplan's fallback, at once."""
        self.stats.turned_away += 1
        line = self.brakes.report(self.clock.now())
        if line is not None:
            log.warning(line)
        if self.live.admission.turn_away == "busy":
            self._spawn(self._quietly(self.ari.hangup(channel, "busy")))
        else:
            self._spawn(self._quietly(self.ari.continue_in_dialplan(
                channel, context=self.live.fallback_context,
                extension=self.live.fallback_extension,
            )))

    def _feature(self, ch: models.Channel, feature: str, args: list[str]) -> None:
        leg = Leg(ch.id, "feature")
        self.legs[ch.id] = leg
        agent_id = self._agent_by_endpoint.get(endpoint_of(ch.name))
        if agent_id is None:
            log.warning("feature %s dialled from %s: no agent's endpoint", feature, ch.name)
        else:
            self.feed(FEATURES[feature](agent_id, args))
        playback = self._next_id("pb")

        async def confirm() -> None:
            try:
                await self.ari.answer(ch.id)
                if self.live.feature_prompt and agent_id is not None:
                    self._after_playback[playback] = lambda: self._hang_up_feature(ch.id)
                    await self.ari.play(ch.id, self.live.feature_prompt, playback_id=playback)
                    return
            except AriError as err:
                self._after_playback.pop(playback, None)
                if err.gone:
                    return
            await self._quietly(self.ari.hangup(ch.id))

        self.lanes.submit(ch.id, confirm)

    def _hang_up_feature(self, channel_id: str) -> None:
        self.lanes.submit(channel_id, lambda: self._quietly(self.ari.hangup(channel_id)))

    def _answered(self, leg: Leg) -> None:
        leg.answered = True
        call = self.calls.get(leg.call_id)
        if call is None:
            return
        if leg.kind in SUPERVISION_KINDS:
            self._supervision_up(call, leg)
            return
        if len(self.stats.bridge_ms) < FIRST_COMMAND_SAMPLES:
            self._answered_at[leg.channel_id] = time.perf_counter()
        if leg.kind == "agent":
            self.feed(ev.AgentAnswered(agent_id=leg.agent_id, call_id=call.call_id))
        elif leg.kind == "vendor":
            self._talk(call, leg.channel_id)
            self.feed(ev.VendorAnswered(call_id=call.call_id))
        elif leg.kind == "callback":
            call.callback = ""
            call.caller = leg.channel_id
            self.feed(ev.CallbackAnswered(call_id=call.call_id))

    def _on_dtmf(self, e: models.ChannelDtmfReceived) -> None:
        leg = self.legs.get(e.channel.id)
        if leg is None or leg.gone:
            self.stats.stray_events += 1
            return
        call = self.calls.get(leg.call_id)
        if call is None:
            return
        if leg.kind in ("caller", "callback") and call.caller == leg.channel_id:
            self.feed(ev.DigitPressed(call_id=call.call_id, digit=e.digit))
        elif leg.kind == "agent" and leg.answered:
            code = self.live.abusive_dtmf
            leg.keys = (leg.keys + e.digit)[-len(code) :]
            if leg.keys == code:
                leg.keys = ""
                self.feed(ev.AgentFlaggedAbusive(agent_id=leg.agent_id, call_id=call.call_id))

    def _on_playback_finished(self, e: models.PlaybackFinished) -> None:
        pid = e.playback.id
        after = self._after_playback.pop(pid, None)
        if after is not None:
            after()
        tracked = self.playbacks.pop(pid, None)
        if tracked is None:
            return
        call_id, prompt_id = tracked
        call = self.calls.get(call_id)
        if call is not None and call.playback == pid:
            call.playback = ""
        self.feed(ev.PromptFinished(call_id=call_id, prompt_id=prompt_id))

    def _on_hangup_request(self, e: models.ChannelHangupRequest) -> None:
        leg = self.legs.get(e.channel.id)
        if leg is not None and e.cause:
            leg.cause = e.cause

    def _on_dial(self, e: models.Dial) -> None:
        # The dial status names the far end's refusal before the channel ends.
        leg = self.legs.get(e.peer.id)
        if leg is not None and not leg.cause:
            leg.cause = {"BUSY": 17, "NOANSWER": 19, "CONGESTION": 34}.get(e.dialstatus, 0)

    def _on_channel_end(self, e: models.StasisEnd | models.ChannelDestroyed) -> None:
        leg = self.legs.get(e.channel.id)
        if leg is None:
            return
        if isinstance(e, models.ChannelDestroyed) and e.cause:
            leg.cause = e.cause if not leg.cause else leg.cause
        self._gone(leg)

    def _gone(self, leg: Leg) -> None:
        """The leg's channel ended; tell the engine what that means, once."""
        if leg.gone:
            return
        leg.gone = True
        self._answered_at.pop(leg.channel_id, None)
        call = self.calls.get(leg.call_id)
        if leg.kind == "feature" or call is None:
            self.legs.pop(leg.channel_id, None)
            return
        self._supervision_gone(call, leg)
        event = end_event(leg, call)
        if (
            leg.bridge.startswith(TALK_PREFIX)
            and call.talk_bridge == leg.bridge
            # A barging supervisor leaving an agent's kept bridge ends no conversation.
            and not (leg.kind == "supervisor" and leg.bridge in self._kept_bridges)
        ):
            self._release_talk_bridge(call)
        if event is not None:
            self.feed(event)
        self._forget_if_done(call)

    def _release_talk_bridge(self, call: CallLegs) -> None:
        bridge = call.talk_bridge
        if bridge in self._kept_bridges:
            call.talk_bridge = ""  # an agent's own bridge waits for their next call
            return
        if any(
            self.legs[c].bridge == bridge and not self.legs[c].gone
            for c in call.legs
            if c in self.legs
        ):
            return
        call.talk_bridge = ""
        self.lanes.submit(call.call_id, lambda: self._quietly(self.ari.destroy_bridge(bridge)))

    def _forget_if_done(self, call: CallLegs) -> None:
        if call.call_id in self.engine.calls:
            return
        if all(self.legs[c].gone for c in call.legs if c in self.legs):
            for c in call.legs:
                self.legs.pop(c, None)
            self.calls.pop(call.call_id, None)
            if call.playback:
                self.playbacks.pop(call.playback, None)

    # ------------------------------------------------------------------ commands

    def _caller_op(
        self, c: cmd.Command, call_id: str, op: Callable[[str], Awaitable[None]]
    ) -> None:
        """Run `op(channel id of the caller's leg)` in the call's lane; a gone channel
        is the caller hanging up, other failures are logged."""
        call = self.calls.get(call_id)
        if call is None:
            return

        async def run() -> None:
            channel = call.caller
            leg = self.legs.get(channel)
            if not channel or leg is None or leg.gone:
                return
            try:
                await op(channel)
            except AriError as err:
                self._failed(c, err)
                if err.gone:
                    self._gone(leg)
            self._first_command(channel)

        self.lanes.submit(call_id, run)

    def _first_command(self, channel: str) -> None:
        seen = self._stasis_seen.pop(channel, None)
        if seen is not None:
            self.stats.first_command_ms.append((time.perf_counter() - seen) * 1000.0)

    def _failed(self, c: cmd.Command, err: AriError, *, caller_left: bool = False) -> None:
        """Count and log a failed REST call: a warning, unless what it acted on was gone
        (a channel that hung up, a finished playback), which happens every day."""
        self.stats.rest_failures += 1
        level = logging.INFO if err.gone or caller_left else logging.WARNING
        self._log_failure(level, f"{type(c).__name__} failed: {err}", err)

    def _log_failure(self, level: int, line: str, err: AriError) -> None:
        """Log a failed request's `line`; one unanswered by Asterisk (status 0) goes
        into a summary line every few seconds instead (ari/unanswered.py)."""
        if err.status == 0:
            summary = self.unanswered.add(line, asyncio.get_running_loop().time())
            if summary is not None:
                log.warning("%s", summary)
        else:
            log.log(level, "%s", line)

    def _do_answer(self, c: cmd.Answer) -> None:
        self._caller_op(c, c.call_id, self.ari.answer)

    def _do_play(self, c: cmd.Play) -> None:
        call = self.calls.get(c.call_id)
        if call is None:
            return
        playback = playback_id(c.call_id, c.prompt_id)
        self.playbacks[playback] = (c.call_id, c.prompt_id)
        call.playback = playback

        self._requested.add(playback)

        async def play(channel: str) -> None:
            try:
                await self.ari.play(channel, c.media, playback_id=playback, lang=c.language)
                self._requested.discard(playback)
            except AriError as err:
                self._requested.discard(playback)
                if not err.gone and self.playbacks.pop(playback, None) is not None:
                    # The prompt cannot play: for the flow, it has finished (a caller
                    # who misses a prompt is better off than one left in silence).
                    self.feed(ev.PromptFinished(call_id=c.call_id, prompt_id=c.prompt_id))
                raise

        self._caller_op(c, c.call_id, play)

    def _do_stop_playback(self, c: cmd.StopPlayback) -> None:
        call = self.calls.get(c.call_id)
        if call is None or not call.playback:
            return
        playback = call.playback
        self.lanes.submit(c.call_id, lambda: self._quietly(self.ari.stop_playback(playback)))

    def _do_hold(self, c: cmd.Hold) -> None:
        bridge = HOLD_PREFIX + c.queue

        async def hold(channel: str) -> None:
            leg = self.legs[channel]
            if leg.bridge == bridge:
                return
            await self._holding_bridge(c.queue, c.music_class)
            await self.ari.add_channels(bridge, [channel], role="participant")
            leg.bridge = bridge

        self._caller_op(c, c.call_id, hold)

    async def _holding_bridge(self, queue: str, music_class: str) -> None:
        """Make the queue's holding bridge once, with its music on hold."""
        ready = self._holding.get(queue)
        if ready is None:
            ready = asyncio.get_running_loop().create_future()
            self._holding[queue] = ready
            bridge = HOLD_PREFIX + queue
            try:
                try:
                    await self.ari.create_bridge(bridge, "holding", name=f"queue-{queue}")
                except AriError as err:
                    if err.status != 409:  # 409: it exists already (we made it before)
                        raise
                await self.ari.start_bridge_moh(bridge, music_class)
                ready.set_result(True)
            except AriError:
                del self._holding[queue]
                ready.set_result(False)
                raise
        if not await asyncio.shield(ready):
            raise AriError("POST", f"/bridges/{HOLD_PREFIX}{queue}", 0, "holding bridge failed")

    def _do_announce(self, c: cmd.AnnounceWait) -> None:
        media = wait_announcement(c.position, c.expected_wait_seconds)
        if not media:
            return
        playback = self._next_id("pb")

        async def announce(channel: str) -> None:
            await self.ari.play(channel, media, playback_id=playback, lang=c.language)

        self._caller_op(c, c.call_id, announce)

    def _new_leg(self, call: CallLegs, kind: LegKind, agent_id: str = "") -> Leg:
        channel_id = leg_id(kind, self._unique(), call.call_id, agent_id)
        leg = Leg(channel_id, kind, call.call_id, agent_id)
        self.legs[leg.channel_id] = leg
        call.legs.append(leg.channel_id)
        return leg

    def _originate(
        self,
        c: cmd.Command,
        call: CallLegs,
        leg: Leg,
        endpoint: str,
        timeout: float,
        caller_number: str,
        variables: dict[str, str],
    ) -> None:
        """Dial `endpoint` for the call; a refused originate is the leg failing."""
        number = self.live.caller_id or caller_number

        leg.dialling = True

        async def originate() -> None:
            if leg.released or leg.gone:
                leg.dialling = False
                return
            caller_leg = self.legs.get(call.caller)
            originator = call.caller if caller_leg is not None and not caller_leg.gone else ""
            try:
                await self.ari.originate(
                    endpoint,
                    channel_id=leg.channel_id,
                    app_args=[leg.kind, call.call_id],
                    timeout=timeout,
                    caller_id=f'"ACD" <{number}>' if number else "",
                    originator=originator,
                    variables=variables,
                )
                leg.dialling = False
            except AriError as err:
                leg.dialling = False
                # The caller hung up while we asked (Asterisk's 400 "Provided
                # originator channel was not found"): nobody's fault, no warning; the
                # caller's own hang-up settles the offer.
                caller_left = err.status == 400 and "originator" in err.message.lower()
                self._failed(c, err, caller_left=caller_left)
                if caller_left:
                    leg.released = True
                leg.cause = -1  # the PBX would not dial it: unreachable, not a miss
                if err.status == 0:
                    # No answer in time: the channel may exist all the same.
                    await self._quietly(self.ari.hangup(leg.channel_id))
                self._gone(leg)

        self.lanes.submit(call.call_id, originate)

    def _do_ring(self, c: cmd.RingAgent) -> None:
        call = self.calls.get(c.call_id)
        if call is None:
            # A callback from an earlier call's referral: the engine's call id is new.
            call = self.calls[c.call_id] = CallLegs(call_id=c.call_id)
        leg = self._new_leg(call, "agent", c.agent_id)
        call.agent = leg.channel_id
        variables = {"ACD_QUEUE": c.queue, "ACD_CALL": c.call_id, "ACD_AGENT": c.agent_id}
        self._originate(c, call, leg, c.endpoint, c.timeout, c.caller, variables)

    def _release(self, channel: str, call_id: str, reason: str = "normal") -> None:
        leg = self.legs.get(channel)
        if leg is None or leg.gone or leg.released:
            return
        leg.released = True

        async def hang_up() -> None:
            if leg.gone:
                return
            await self._quietly(self.ari.hangup(channel, reason))

        self.lanes.submit(call_id, hang_up)

    def _do_cancel_ring(self, c: cmd.CancelRing) -> None:
        call = self.calls.get(c.call_id)
        if call is not None and call.agent:
            self._release(call.agent, c.call_id)

    def _do_hangup_agent(self, c: cmd.HangupAgent) -> None:
        call = self.calls.get(c.call_id)
        if call is not None and call.agent:
            self._release(call.agent, c.call_id)

    def _do_connect(self, c: cmd.Connect) -> None:
        call = self.calls.get(c.call_id)
        if call is None or not call.agent:
            return
        self._talk(call, call.agent)

    def _talk(self, call: CallLegs, partner: str) -> None:
        """Put the caller and `partner` (agent or vendor leg) in a mixing bridge, unless
        they are in one together already (a predecessor bridged them).

        An agent talks in a bridge of their own, kept from call to call
        (`acd-talk-agent-<id>`): a conversation then costs one request (the add, which
        also takes the caller out of the holding bridge) instead of four. A vendor
        call, or an agent whose bridge still holds someone, gets a bridge of its own,
        destroyed when the call ends."""
        caller, other = self.legs.get(call.caller), self.legs.get(partner)
        if (
            caller is not None and other is not None and caller.bridge == other.bridge
            and caller.bridge.startswith(TALK_PREFIX)
        ):
            call.talk_bridge = caller.bridge
            return
        bridge = ""
        if other is not None and other.kind == "agent" and other.agent_id:
            own = f"{TALK_PREFIX}agent-{other.agent_id}"
            if not any(leg.bridge == own and not leg.gone for leg in self.legs.values()):
                bridge = own
        kept = bool(bridge)
        bridge = bridge or self._next_id("talk")  # acd-talk-...: TALK_PREFIX
        call.talk_bridge = bridge

        async def bridge_them() -> None:
            caller = self.legs.get(call.caller)
            other = self.legs.get(partner)
            if caller is None or other is None or caller.gone or other.gone:
                return
            created = False
            try:
                if bridge not in self._kept_bridges:
                    # dtmf_events: without it Asterisk may pass media natively and the
                    # agent's keys (the abusive-caller code) would never reach us.
                    await self.ari.create_bridge(bridge, "mixing,dtmf_events", name=bridge)
                    created = True
                    if kept:
                        self._kept_bridges.add(bridge)
                try:
                    await self.ari.add_channels(bridge, [caller.channel_id, partner])
                except AriError as err:
                    if not (err.gone and kept and not created):
                        raise
                    # The kept bridge is gone (Asterisk restarted, someone removed it).
                    await self.ari.create_bridge(bridge, "mixing,dtmf_events", name=bridge)
                    await self.ari.add_channels(bridge, [caller.channel_id, partner])
                caller.bridge = other.bridge = bridge
                answered = self._answered_at.pop(partner, None)
                if answered is not None:
                    self.stats.bridge_ms.append((time.perf_counter() - answered) * 1000.0)
            except AriError as err:
                if created and not kept:
                    # Asterisk adds all the channels or none: a bridge nobody was put
                    # in serves no call, and nothing else would ever remove it.
                    if call.talk_bridge == bridge:
                        call.talk_bridge = ""
                    await self._quietly(self.ari.destroy_bridge(bridge))
                # 400 "Channel not found" / 422 "Channel not in Stasis application":
                # one of them hung up meanwhile, as 404 says elsewhere.
                left = err.status in (400, 422) or (err.gone and "bridge" not in err.path)
                if left:
                    log.info("bridging %s: a leg left first: %s", call.call_id, err)
                else:
                    self.stats.rest_failures += 1
                    self._log_failure(
                        logging.WARNING, f"bridging {call.call_id} failed: {err}", err
                    )
                if left:
                    # Which one left? Ask; the one that is gone ends the call.
                    for leg in (caller, other):
                        try:
                            await self.ari.get_channel(leg.channel_id)
                        except AriError as again:
                            if again.gone:
                                self._gone(leg)

        self.lanes.submit(call.call_id, bridge_them)

    def _do_dial_vendor(self, c: cmd.DialVendor) -> None:
        call = self.calls.get(c.call_id)
        if call is None:
            return
        leg = self._new_leg(call, "vendor")
        call.vendor = leg.channel_id
        variables = {"ACD_QUEUE": c.queue, "ACD_CALL": c.call_id, "ACD_VENDOR": c.vendor}
        self._originate(c, call, leg, c.endpoint, c.timeout, c.caller, variables)

    def _do_cancel_vendor(self, c: cmd.CancelVendor) -> None:
        call = self.calls.get(c.call_id)
        if call is not None and call.vendor:
            self._release(call.vendor, c.call_id)

    def _do_dial_callback(self, c: cmd.DialCallback) -> None:
        call = self.calls.get(c.call_id)
        if call is None:
            return
        leg = self._new_leg(call, "callback")
        call.callback = leg.channel_id
        variables = {"ACD_CALL": c.call_id, "ACD_ATTEMPT": str(c.attempt)}
        number = self.live.caller_id or self._centre_number(c.call_id)
        self._originate(c, call, leg, c.endpoint, c.timeout, number, variables)

    def _centre_number(self, call_id: str) -> str:
        """The number the centre calls or writes from when `live.caller_id` is unset:
        the one the caller dialled (the call's DNIS, e.g. 120), so a called-back
        citizen sees the centre they called. "" when that is not a number (an INVITE
        without one arrives as "s"): no caller id rather than a name as a number."""
        call = self.engine.calls.get(call_id)
        dnis = call.dnis if call is not None else ""
        return dnis if dnis.lstrip("+").isdigit() else ""

    def _do_send_link(self, c: cmd.SendLink) -> None:
        async def send() -> None:
            sender = self.live.caller_id or self._centre_number(c.call_id)
            await self._quietly(self.ari.send_message(f"pjsip:{c.number}", sender, c.link))

        self.lanes.submit(c.call_id, send)

    def _do_hangup_caller(self, c: cmd.HangupCaller) -> None:
        call = self.calls.get(c.call_id)
        if call is None:
            return
        # A callback still ringing is the caller's line too.
        for channel in (call.callback, call.caller):
            leg = self.legs.get(channel)
            if leg is None or leg.gone:
                continue
            if channel == call.callback:
                leg.released = True
            self._hang_up_caller(c, call, channel)

    def _hang_up_caller(self, c: cmd.HangupCaller, call: CallLegs, channel: str) -> None:
        async def hang_up() -> None:
            leg = self.legs.get(channel)
            if leg is None or leg.gone:
                return
            try:
                await self.ari.hangup(channel, c.reason)
            except AriError as err:
                self._failed(c, err)
                if err.gone:
                    self._gone(leg)

        self.lanes.submit(call.call_id, hang_up)

    # ------------------------------------------------------------------ supervisors

    def _do_supervise(self, c: cmd.Supervise) -> None:
        """Ring the supervisor; the rest follows their answer (`_supervision_up`)."""
        call = self.calls.get(c.call_id)
        agent = self.legs.get(call.agent) if call is not None and call.agent else None
        if call is None or agent is None or agent.gone or not agent.answered:
            log.warning("supervise %s: the call has no agent leg in a conversation", c.call_id)
            return
        if c.mode == "barge" and not call.talk_bridge:
            log.warning("barge into %s: the call is not bridged", c.call_id)
            return
        leg = self._new_leg(call, "supervisor", c.agent_id)
        self.supervisions[leg.channel_id] = Supervision(
            call_id=c.call_id, mode=c.mode, supervisor=leg.channel_id, agent_leg=agent.channel_id
        )
        variables = {"ACD_CALL": c.call_id, "ACD_AGENT": c.agent_id, "ACD_SUPERVISE": c.mode}
        engine_call = self.engine.calls.get(c.call_id)
        number = engine_call.caller if engine_call is not None else ""
        self._originate(c, call, leg, c.endpoint, SUPERVISOR_RING_SECONDS, number, variables)

    def _supervision_of(self, leg: Leg) -> Supervision | None:
        if leg.kind == "supervisor":
            return self.supervisions.get(leg.channel_id)
        for sup in self.supervisions.values():
            if sup.snoop == leg.channel_id:
                return sup
        return None

    def _supervision_up(self, call: CallLegs, leg: Leg) -> None:
        """A supervisor answered (barge: join the talk; else snoop the agent's leg), or
        their snoop channel entered Stasis (bridge it with the supervisor)."""
        sup = self._supervision_of(leg)
        if sup is None:
            self._release(leg.channel_id, call.call_id)  # its supervision already ended
            return
        if leg.kind == "snoop":
            self._spy_bridge_add(sup, leg.channel_id)
        elif sup.mode == "barge":
            self._barge(call, sup, leg)
        else:
            self._snoop(call, sup, leg)

    def _barge(self, call: CallLegs, sup: Supervision, leg: Leg) -> None:
        bridge = call.talk_bridge

        async def join() -> None:
            if leg.gone or sup.supervisor not in self.supervisions:
                return
            if not bridge:
                log.warning("barge into %s: the conversation is over", call.call_id)
                self._end_supervision(sup)
                return
            try:
                await self.ari.add_channels(bridge, [leg.channel_id])
                leg.bridge = bridge
            except AriError as err:
                self._supervision_failed(sup, err)

        self.lanes.submit(call.call_id, join)

    def _snoop(self, call: CallLegs, sup: Supervision, leg: Leg) -> None:
        agent = self.legs.get(sup.agent_leg)
        if agent is None or agent.gone:
            self._end_supervision(sup)
            return
        snoop = self._new_leg(call, "snoop", agent.agent_id)
        snoop.dialling = True
        sup.snoop = snoop.channel_id
        sup.bridge = f"{SPY_PREFIX}{self._unique()}"
        whisper = "out" if sup.mode == "whisper" else "none"

        async def start() -> None:
            if sup.supervisor not in self.supervisions:
                snoop.dialling = False
                snoop.released = True
                self._gone(snoop)
                return
            try:
                await self.ari.create_bridge(sup.bridge, "mixing", name=sup.bridge)
                await self.ari.add_channels(sup.bridge, [leg.channel_id])
                leg.bridge = sup.bridge
                # The snoop's StasisStart (its "answer") adds it to the bridge.
                await self.ari.snoop(
                    agent.channel_id, snoop_id=snoop.channel_id, spy="both", whisper=whisper,
                    app_args=["snoop", call.call_id],
                )
            except AriError as err:
                self._supervision_failed(sup, err)
                if err.status != 0:  # no snoop channel was made: none will end
                    self._gone(snoop)
            finally:
                snoop.dialling = False

        self.lanes.submit(call.call_id, start)

    def _spy_bridge_add(self, sup: Supervision, channel: str) -> None:
        async def add() -> None:
            leg = self.legs.get(channel)
            if leg is None or leg.gone or sup.supervisor not in self.supervisions:
                return
            try:
                await self.ari.add_channels(sup.bridge, [channel])
                leg.bridge = sup.bridge
            except AriError as err:
                self._supervision_failed(sup, err)

        self.lanes.submit(sup.call_id, add)

    def _supervision_failed(self, sup: Supervision, err: AriError) -> None:
        """A REST call of a supervision failed: logged, and the supervision ends (the
        conversation itself is untouched)."""
        self.stats.rest_failures += 1
        log.warning("supervision (%s) of call %s failed: %s", sup.mode, sup.call_id, err)
        self._end_supervision(sup)

    def _supervision_gone(self, call: CallLegs, leg: Leg) -> None:
        """A leg of a call ended: a supervisor or a snoop ends its supervision; an
        answered party of the conversation ends every supervision of the call."""
        if leg.kind in SUPERVISION_KINDS:
            sup = self._supervision_of(leg)
            if sup is not None:
                self._end_supervision(sup)
        elif leg.answered:
            for sup in [s for s in self.supervisions.values() if s.call_id == call.call_id]:
                self._end_supervision(sup)

    def _end_supervision(self, sup: Supervision) -> None:
        """Hang up the supervisor's leg and the snoop channel, destroy the spy bridge."""
        if self.supervisions.pop(sup.supervisor, None) is None:
            return
        for channel in (sup.supervisor, sup.snoop):
            if channel:
                self._release(channel, sup.call_id)
        if sup.bridge:
            bridge = sup.bridge
            self.lanes.submit(sup.call_id, lambda: self._quietly(self.ari.destroy_bridge(bridge)))

    def _do_outcome(self, c: cmd.CallOutcome) -> None:
        self.stats.outcomes[c.outcome] = self.stats.outcomes.get(c.outcome, 0) + 1
        log.debug("call %s: %s (queue %s)", c.call_id, c.outcome, c.queue)

    async def _quietly(self, request: Awaitable[None]) -> None:
        """A request whose failure changes nothing (the thing is gone already)."""
        try:
            await request
        except AriError as err:
            if not err.gone:
                self.stats.rest_failures += 1
                self._log_failure(logging.WARNING, str(err), err)

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self) -> None:
        """After a (re)connection, or on taking over from another engine: make what we
        know of the PBX true again, from Asterisk's own lists and the engine's state.

        - channels we did not know are adopted: a caller's channel is the id of an
          engine call; a leg we originated names its call and agent in its id;
        - legs that vanished are settled as if their end had been seen;
        - what the engine expects but Asterisk no longer has is settled too (a caller
          gone, an agent's leg gone: offered again), an agent leg found answered is an
          answer, a connected pair not bridged is bridged, a waiting caller not on
          hold is put on hold;
        - prompts the engine waits for that no longer play have finished."""
        if self.stepped_down:
            return
        try:
            if self.sync_clock:
                self.clock.sync(await self.ari.asterisk_time())
                self._timer_at = None
                self._arm_timer()
            channels = {ch.id: ch for ch in await self.ari.list_channels()}
            bridges = await self.ari.list_bridges()
        except AriError as err:
            log.warning("reconciliation skipped: %s", err)
            return
        removed = await self._remove_idle_bridges(bridges, holding=False)
        bridges = [b for b in bridges if b.id not in removed]
        ours = [b for b in bridges if b.id.startswith((HOLD_PREFIX, TALK_PREFIX))]
        members = {c: b.id for b in ours for c in b.channels}
        bridge_ids = {b.id for b in bridges}
        for queue in [q for q in self._holding if HOLD_PREFIX + q not in bridge_ids]:
            del self._holding[queue]  # the PBX restarted: make it again when needed
        for bridge in bridge_ids:
            queue = bridge.removeprefix(HOLD_PREFIX)
            if bridge.startswith(HOLD_PREFIX) and queue not in self._holding:
                made = asyncio.get_running_loop().create_future()
                made.set_result(True)
                self._holding[queue] = made
        for ch in channels.values():
            if ch.id not in self.legs:
                self._adopt(ch, members.get(ch.id, ""))
        for leg in list(self.legs.values()):
            if leg.gone or leg.dialling:
                continue
            found = channels.get(leg.channel_id)
            if found is None:
                self.stats.reconciled_gone += 1
                self._gone(leg)
                continue
            leg.bridge = members.get(leg.channel_id, "")
            # A snoop channel is Up from birth: its StasisStart is its "answer".
            if not leg.answered and found.state == "Up" and leg.kind not in ("feature", "snoop"):
                self.stats.reconciled_answered += 1
                self._answered(leg)
        for call in list(self.engine.calls.values()):
            if call.id in self.engine.calls:
                self._expect(call.id, channels)
        await self._check_prompts()
        log.info(
            "reconciled: %d channels present, %d legs settled as gone, %d answers found",
            len(channels), self.stats.reconciled_gone, self.stats.reconciled_answered,
        )

    async def _remove_idle_bridges(
        self, bridges: list[models.Bridge], *, holding: bool
    ) -> set[str]:
        """Destroy the bridges of ours that hold nobody and serve no call: a talk
        bridge no call of ours is being bridged in (its conversation ended while no
        engine was there, or an add failed), a holding bridge of a queue that is no
        longer configured, and with `holding` (at shutdown) every empty holding
        bridge. Bridges with people in them are left alone. Returns the ids removed."""
        talking = {call.talk_bridge for call in self.calls.values()}
        removed: set[str] = set()
        for bridge in bridges:
            if bridge.channels:
                continue
            if bridge.id.startswith(TALK_PREFIX):
                idle = bridge.id not in talking
            elif bridge.id.startswith(HOLD_PREFIX):
                queue = bridge.id.removeprefix(HOLD_PREFIX)
                idle = holding or queue not in self.site.queues
            else:
                continue
            if idle:
                self._kept_bridges.discard(bridge.id)
                await self._quietly(self.ari.destroy_bridge(bridge.id))
                if bridge.id.startswith(HOLD_PREFIX):
                    self._holding.pop(bridge.id.removeprefix(HOLD_PREFIX), None)
                self.stats.bridges_removed += 1
                removed.add(bridge.id)
        return removed

    def _adopt(self, ch: models.Channel, bridge: str) -> None:
        """Take a channel we did not know into our books (a predecessor's leg)."""
        if ch.id in self.engine.calls:
            call = self.calls.setdefault(ch.id, CallLegs(call_id=ch.id))
            leg = Leg(ch.id, "caller", ch.id, answered=True, bridge=bridge)
            call.caller = ch.id
        else:
            parsed = parse_leg_id(ch.id)
            if parsed is None:
                self._adopt_stranger(ch)
                return
            kind, call_id, agent_id = parsed
            if call_id not in self.engine.calls or kind in SUPERVISION_KINDS:
                # Our leg, for a call that is over, or a supervision a predecessor
                # started (its session is not known here): nobody needs it any more.
                self.stats.stray_events += 1
                self._spawn(self._quietly(self.ari.hangup(ch.id)))
                return
            call = self.calls.setdefault(call_id, CallLegs(call_id=call_id))
            # An agent or vendor leg that is up while the engine still has it ringing
            # (the predecessor's journal lost the answer) is news: left unanswered
            # here, reconciliation reports the answer, or the engine would ring
            # another agent for a caller who is already talking.
            ringing = self.engine.calls[call_id].state in (
                CallState.OFFERED, CallState.VENDOR_DIALING
            )
            up = ch.state == "Up" and not (ringing and kind in ("agent", "vendor"))
            leg = Leg(ch.id, kind, call_id, agent_id, answered=up, bridge=bridge)
            if kind == "agent":
                call.agent = ch.id
            elif kind == "vendor":
                call.vendor = ch.id
            elif kind == "callback":
                if leg.answered:
                    call.caller = ch.id
                else:
                    call.callback = ch.id
        self.legs[ch.id] = leg
        call.legs.append(ch.id)
        if bridge.startswith(TALK_PREFIX):
            call.talk_bridge = bridge

    def _adopt_stranger(self, ch: models.Channel) -> None:
        """A channel in our Stasis application that we never heard of: its StasisStart
        went to a predecessor (paused, or dying) or was lost in a gap. An inbound caller
        is taken as a new call (better late than left in silence); a feature call is
        served; a call the engine already ended is hung up."""
        app, *args = ch.dialplan.app_data.split(",") if ch.dialplan.app_data else [""]
        if ch.dialplan.app_name != "Stasis" or app != self.ari.app:
            return  # not ours: another application's channel
        self.stats.adopted += 1
        if self.engine.has_ended(ch.id) or (args and args[0] not in FEATURES):
            self._spawn(self._quietly(self.ari.hangup(ch.id)))
        elif args:
            self._feature(ch, args[0], args[1:])
        else:
            log.info("adopting caller %s whose arrival we never heard of", ch.id)
            self._inbound(ch)

    def _expect(self, call_id: str, channels: dict[str, models.Channel]) -> None:
        """Settle what the engine expects of a call and the PBX does not hold."""
        call = self.engine.calls[call_id]
        books = self.calls.setdefault(call_id, CallLegs(call_id=call_id))
        state = call.state

        def phantom(kind: LegKind, answered: bool, agent_id: str = "") -> None:
            # A leg the engine counts on that Asterisk does not have: its end is news.
            leg = self._new_leg(books, kind, agent_id)
            leg.answered = answered
            if kind == "caller":
                books.caller = leg.channel_id
            self.stats.reconciled_gone += 1
            self._gone(leg)

        line = books.caller if books.caller in channels else ""
        if call.line_up and not line and state is not CallState.DIALING_BACK:
            if not books.caller or books.caller not in self.legs:
                phantom("caller", True)
            return
        if state in (CallState.OFFERED, CallState.CONNECTING, CallState.CONNECTED) and not (
            books.agent and books.agent in self.legs
        ):
            phantom("agent", state is not CallState.OFFERED, call.agent_id)
        elif state is CallState.DIALING_BACK and not (books.callback or books.caller in channels):
            phantom("callback", False)
        elif state in (CallState.VENDOR_DIALING, CallState.VENDOR_CONNECTED) and not (
            books.vendor and books.vendor in self.legs
        ):
            phantom("vendor", state is CallState.VENDOR_CONNECTED)
        if call_id not in self.engine.calls or self.lanes.busy(call_id):
            return  # over, or its own requests (a Hold, a Connect) are still on the way
        call = self.engine.calls[call_id]
        caller = self.legs.get(books.caller)
        if call.state is CallState.WAITING and caller is not None and not caller.gone:
            if not caller.bridge.startswith(HOLD_PREFIX):
                music = self.site.queues[call.queue].music_on_hold
                self._do_hold(cmd.Hold(call_id=call_id, queue=call.queue, music_class=music))
        elif call.state is CallState.CONNECTED and caller is not None and books.agent:
            agent = self.legs.get(books.agent)
            if agent is not None and not agent.gone and (
                not caller.bridge or caller.bridge != agent.bridge
            ):
                self._talk(books, books.agent)

    async def _check_prompts(self) -> None:
        """Prompts the engine waits for whose playback Asterisk no longer has: done."""
        for call in list(self.engine.calls.values()):
            waited = []
            if call.prompt_id and call.prompt_kind not in ("", "digit"):
                waited.append(call.prompt_id)
            if call.protection_prompt_id and not call.protection_done:
                waited.append(call.protection_prompt_id)
            for prompt in waited:
                playback = playback_id(call.id, prompt)
                self.playbacks.setdefault(playback, (call.id, prompt))
        for playback, (call_id, prompt_id) in list(self.playbacks.items()):
            if playback in self._requested:
                continue  # asked for, not started yet: not finished either
            try:
                await self.ari.get_playback(playback)
            except AriError as err:
                if err.gone and self.playbacks.pop(playback, None) is not None:
                    self.stats.reconciled_prompts += 1
                    books = self.calls.get(call_id)
                    if books is not None and books.playback == playback:
                        books.playback = ""
                    self.feed(ev.PromptFinished(call_id=call_id, prompt_id=prompt_id))

    # ------------------------------------------------------------------ shutdown

    async def shutdown(self, grace: float = 15.0) -> None:
        """Leave no caller in silence: callers in the IVR or waiting hear
        `live.shutdown_prompt`, then go on in the dialplan (`on_shutdown: continue`)
        or are hung up; agent legs still ringing are cancelled. Conversations already
        bridged go on in Asterisk. Waits at most `grace` seconds (wall clock)."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        handed: list[Awaitable[None]] = []
        for call in list(self.calls.values()):
            state = self.engine.calls.get(call.call_id)
            if state is None or state.state not in HANDED_BACK_STATES:
                continue
            for channel in (call.agent, call.vendor):
                if channel:
                    self._release(channel, call.call_id)
            leg = self.legs.get(call.caller)
            if leg is not None and not leg.gone:
                self.stats.handed_back += 1
                handed.append(self._hand_back(call, leg))
        try:
            if handed:
                await asyncio.wait_for(asyncio.gather(*handed), grace)
            await asyncio.wait_for(self.lanes.idle.wait(), grace)
        except TimeoutError:
            log.warning("shutdown: %d calls still had ARI work pending", len(self.lanes))
        # Nobody waits any more: the holding bridges would outlive us in Asterisk.
        try:
            await self._remove_idle_bridges(await self.ari.list_bridges(), holding=True)
        except AriError as err:
            log.warning("shutdown: bridges not listed: %s", err)

    async def _hand_back(self, call: CallLegs, leg: Leg) -> None:
        done = asyncio.get_running_loop().create_future()

        async def tell_and_go() -> None:
            channel = leg.channel_id
            try:
                if call.playback:
                    await self._quietly(self.ari.stop_playback(call.playback))
                if leg.bridge:
                    await self._quietly(self.ari.remove_channels(leg.bridge, [channel]))
                if self.live.shutdown_prompt:
                    finished = asyncio.get_running_loop().create_future()
                    playback = self._next_id("pb")
                    self._after_playback[playback] = lambda: finished.set_result(None)
                    await self.ari.play(channel, self.live.shutdown_prompt, playback_id=playback)
                    await asyncio.wait_for(finished, 10.0)
                await self._send_back(channel)
            except (AriError, TimeoutError) as err:
                log.info("shutdown: %s: %s", channel, err)
            finally:
                done.set_result(None)

        leg.released = True
        self.lanes.submit(call.call_id, tell_and_go)
        await done

    async def _hand_back_new(self, channel: str) -> None:
        await self._quietly(self._send_back(channel))

    async def _send_back(self, channel: str) -> None:
        if self.live.on_shutdown == "continue":
            await self.ari.continue_in_dialplan(
                channel,
                context=self.live.fallback_context,
                extension=self.live.fallback_extension,
            )
        else:
            await self.ari.hangup(channel, "normal")

    # ------------------------------------------------------------------ tables

    _events: ClassVar[dict[type[Any], Callable[[Controller, Any], None]]] = {
        models.StasisStart: _on_stasis_start,
        models.ChannelDtmfReceived: _on_dtmf,
        models.PlaybackFinished: _on_playback_finished,
        models.ChannelHangupRequest: _on_hangup_request,
        models.Dial: _on_dial,
        models.StasisEnd: _on_channel_end,
        models.ChannelDestroyed: _on_channel_end,
    }
