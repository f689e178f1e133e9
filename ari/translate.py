"""The sans-IO translator: Asterisk's events into engine events, engine commands into
ARI operations, both as data.

`event(books, e, now)` and `command(books, c, now)` change the books (ari/books.py)
and return the effects to carry out in order (ari/effects.py): engine events to
feed, and jobs of requests (ari/ops.py) for the call's lane. They read no clock
(`now` names new legs and bridges, and times the admission of new callers) and
make no request, so the tests drive them from tables, without sockets
(tests/test_ari_translate.py).

Events:

- an inbound channel entering `Stasis(acd)` with no args is a new call
  (`CallArrived`, caller = the channel's caller number, dnis = its dialplan exten),
  unless the brakes keep it out (busy, or the dialplan's fallback) or we are
  shutting down (handed back at once); DTMF on it is `DigitPressed`, the end of a
  tracked playback `PromptFinished`, and the end of the channel (`StasisEnd` or
  `ChannelDestroyed`, whichever comes first) `CallerHungUp`;
- legs we originate carry their role in their Stasis args (`agent,<call>`,
  `vendor,<call>`, `callback,<call>`): their StasisStart is the far end answering;
  their end before that is a miss with Asterisk's cause (19 no answer, 17 busy:
  transcript 04); after it, a hang-up (see `ari.legs.end_event`);
- an agent's call to a feature code (`Stasis(acd,login)`, `logout`, `pause`,
  `unpause`, `ready`) logs them in and so on; the agent is known by the endpoint;
- an agent's keys `live.abusive_dtmf` during a conversation flag the caller abusive;
- unknown channels and late events are counted (`stray_events`), never raised.

Commands: each kind has its translation below; `command` matches every kind, and
mypy's `assert_never` says so when the engine gains one this does not know.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import assert_never

from acd.ari import models
from acd.ari.books import (
    MAX_SAMPLES,
    Books,
    HangUpFeature,
    Signal,
    centre_number,
    new_leg,
    release,
)
from acd.ari.effects import (
    Announce,
    AnswerCaller,
    Confirm,
    Effect,
    Feed,
    HangUpCaller,
    HoldCaller,
    Played,
    PlayPrompt,
    Quiet,
    SendLink,
    Spawn,
    Stamp,
    Submit,
)
from acd.ari.legs import CallLegs, Leg, Supervision, endpoint_of, playback_id, wait_announcement
from acd.ari.ops import ContinueInDialplan, Hangup, StopPlayback
from acd.ari.settle import answered, gone, originate, prompt_finished, talk
from acd.config.schema import Live
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

SUPERVISOR_RING_SECONDS = 30.0
"""How long a supervisor's phone rings before the supervision is given up."""

DIAL_CAUSES = {"BUSY": 17, "NOANSWER": 19, "CONGESTION": 34}
"""A `Dial` event's status as the Q.850 cause the leg's end will mean."""


# ------------------------------------------------------------------ ARI events


def event(books: Books, e: models.Event, now: float) -> list[Effect]:
    """What one of Asterisk's events means. Every kind of event is matched here; the
    ones that are no news for the engine are named as such."""
    match e:
        case models.StasisStart():
            return _stasis_start(books, e, now)
        case models.ChannelDtmfReceived():
            return _dtmf(books, e)
        case models.PlaybackFinished():
            return _playback_finished(books, e)
        case models.ChannelHangupRequest():
            leg = books.legs.get(e.channel.id)
            if leg is not None and e.cause:
                leg.cause = e.cause
            return []
        case models.Dial():
            # The dial status names the far end's refusal before the channel ends.
            leg = books.legs.get(e.peer.id)
            if leg is not None and not leg.cause:
                leg.cause = DIAL_CAUSES.get(e.dialstatus, 0)
            return []
        case models.StasisEnd() | models.ChannelDestroyed():
            return _channel_end(books, e)
        case (
            models.ApplicationMoveFailed()
            | models.ApplicationRegistered()
            | models.ApplicationReplaced()
            | models.ApplicationUnregistered()
            | models.BridgeAttendedTransfer()
            | models.BridgeBlindTransfer()
            | models.BridgeCreated()
            | models.BridgeDestroyed()
            | models.BridgeMerged()
            | models.BridgeVideoSourceChanged()
            | models.CallBroadcast()
            | models.CallClaimed()
            | models.ChannelCallerId()
            | models.ChannelConnectedLine()
            | models.ChannelCreated()
            | models.ChannelDialplan()
            | models.ChannelEnteredBridge()
            | models.ChannelHold()
            | models.ChannelLeftBridge()
            | models.ChannelStateChange()
            | models.ChannelTalkingFinished()
            | models.ChannelTalkingStarted()
            | models.ChannelToneDetected()
            | models.ChannelTransfer()
            | models.ChannelUnhold()
            | models.ChannelUserevent()
            | models.ChannelVarset()
            | models.ContactStatusChange()
            | models.DeviceStateChanged()
            | models.EndpointStateChange()
            | models.PeerStatusChange()
            | models.PlaybackContinuing()
            | models.PlaybackStarted()
            | models.RESTResponse()
            | models.RecordingFailed()
            | models.RecordingFinished()
            | models.RecordingStarted()
            | models.TextMessageReceived()
        ):
            return []  # no news for the engine: what it needs comes with the above
        case _:
            assert_never(e)


def _stasis_start(books: Books, e: models.StasisStart, now: float) -> list[Effect]:
    ch = e.channel
    leg = books.legs.get(ch.id)
    if leg is not None:
        if not leg.answered and not leg.gone:
            return answered(books, leg, now)
        return []
    role = e.args[0] if e.args else ""
    if not e.args:
        return inbound(books, ch, now)
    if role in FEATURES:
        return feature(books, ch, role, list(e.args[1:]), now)
    # A leg of ours from before a restart, or someone else's: not ours to keep.
    books.stats.stray_events += 1
    log.info("StasisStart of unknown channel %s (args %s): hung up", ch.id, e.args)
    return [Spawn(Quiet(Hangup(ch.id)))]


def fallback(live: Live, channel: str) -> ContinueInDialplan:
    """Hand the caller to the dialplan's fallback (`live.fallback_context`)."""
    return ContinueInDialplan(channel, live.fallback_context, live.fallback_extension)


def send_back(live: Live, channel: str) -> ContinueInDialplan | Hangup:
    """How a caller we will not serve leaves: `live.on_shutdown`."""
    if live.on_shutdown == "continue":
        return fallback(live, channel)
    return Hangup(channel, "normal")


def inbound(books: Books, ch: models.Channel, now: float) -> list[Effect]:
    """A new caller: a call for the engine, unless the brakes keep it out or we are
    shutting down."""
    if books.stopping:
        return [Spawn(Quiet(send_back(books.live, ch.id)))]
    if not books.brakes.admit(now):
        return _turn_away(books, ch.id, now)
    books.stats.calls += 1
    books.calls[ch.id] = CallLegs(call_id=ch.id, caller=ch.id, legs=[ch.id])
    books.legs[ch.id] = Leg(ch.id, "caller", call_id=ch.id, answered=True)
    out: list[Effect] = []
    if len(books.stats.first_command_ms) < MAX_SAMPLES:
        out.append(Stamp("first_command", ch.id))
    out.append(Feed(ev.CallArrived(call_id=ch.id, caller=ch.caller.number, dnis=ch.dialplan.exten)))
    return out


def _turn_away(books: Books, channel: str, now: float) -> list[Effect]:
    """A new caller the brakes keep out: never answered, never seen by the
    engine; a busy signal (cause 17) or the dialplan's fallback, at once."""
    books.stats.turned_away += 1
    line = books.brakes.report(now)
    if line is not None:
        log.warning(line)
    live = books.live
    if live.admission.turn_away == "busy":
        return [Spawn(Quiet(Hangup(channel, "busy")))]
    return [Spawn(Quiet(fallback(live, channel)))]


def feature(
    books: Books, ch: models.Channel, feature: str, args: list[str], now: float
) -> list[Effect]:
    """An agent's call to a feature code: the engine event, then the call answered,
    a beep (`live.feature_prompt`), and hung up."""
    books.legs[ch.id] = Leg(ch.id, "feature")
    agent_id = books.agent_by_endpoint.get(endpoint_of(ch.name))
    out: list[Effect] = []
    if agent_id is None:
        log.warning("feature %s dialled from %s: no agent's endpoint", feature, ch.name)
    else:
        out.append(Feed(FEATURES[feature](agent_id, args)))
    playback = books.next_id("pb", now)
    prompt = books.live.feature_prompt if agent_id is not None else []
    out.append(Submit(ch.id, Confirm(ch.id, playback, tuple(prompt))))
    return out


def _dtmf(books: Books, e: models.ChannelDtmfReceived) -> list[Effect]:
    leg = books.legs.get(e.channel.id)
    if leg is None or leg.gone:
        books.stats.stray_events += 1
        return []
    call = books.calls.get(leg.call_id)
    if call is None:
        return []
    if leg.kind in ("caller", "callback") and call.caller == leg.channel_id:
        return [Feed(ev.DigitPressed(call_id=call.call_id, digit=e.digit))]
    if leg.kind == "agent" and leg.answered:
        code = books.live.abusive_dtmf
        leg.keys = (leg.keys + e.digit)[-len(code) :]
        if leg.keys == code:
            leg.keys = ""
            return [Feed(ev.AgentFlaggedAbusive(agent_id=leg.agent_id, call_id=call.call_id))]
    return []


def _playback_finished(books: Books, e: models.PlaybackFinished) -> list[Effect]:
    pid = e.playback.id
    out: list[Effect] = []
    match books.after_playback.pop(pid, None):
        case HangUpFeature(channel=channel):
            out.append(Submit(channel, Quiet(Hangup(channel))))
        case Signal():
            out.append(Played(pid))
        case None:
            pass
        case other:
            assert_never(other)
    return out + prompt_finished(books, pid)


def _channel_end(books: Books, e: models.StasisEnd | models.ChannelDestroyed) -> list[Effect]:
    leg = books.legs.get(e.channel.id)
    if leg is None:
        return []
    if isinstance(e, models.ChannelDestroyed) and e.cause:
        leg.cause = e.cause if not leg.cause else leg.cause
    return gone(books, leg)


# ------------------------------------------------------------------ engine commands


def command(books: Books, c: cmd.Command, now: float) -> list[Effect]:
    """One engine command as ARI operations (jobs for the call's lane). Every kind of
    command is matched here: mypy's `assert_never` says so when the engine gains one
    this does not know."""
    match c:
        case cmd.Play():
            return _play(books, c)
        case cmd.StopPlayback():
            call = books.calls.get(c.call_id)
            if call is None or not call.playback:
                return []
            return [Submit(c.call_id, Quiet(StopPlayback(call.playback)))]
        case cmd.CallOutcome():
            books.stats.outcomes[c.outcome] = books.stats.outcomes.get(c.outcome, 0) + 1
            log.debug("call %s: %s (queue %s)", c.call_id, c.outcome, c.queue)
            return []
        case cmd.Hold():
            return hold(books, c)
        case cmd.AnnounceWait():
            return _announce(books, c, now)
        case cmd.RingAgent():
            return _ring(books, c, now)
        case cmd.CancelRing() | cmd.HangupAgent():
            call = books.calls.get(c.call_id)
            if call is None or not call.agent:
                return []
            return release(books, call.agent, c.call_id)
        case cmd.Connect():
            call = books.calls.get(c.call_id)
            if call is None or not call.agent:
                return []
            return talk(books, call, call.agent, now)
        case cmd.Answer():
            return [Submit(c.call_id, AnswerCaller(c.call_id))] if c.call_id in books.calls else []
        case cmd.HangupCaller():
            return _hangup_caller(books, c)
        case cmd.DialVendor():
            return _dial_vendor(books, c, now)
        case cmd.CancelVendor():
            call = books.calls.get(c.call_id)
            if call is None or not call.vendor:
                return []
            return release(books, call.vendor, c.call_id)
        case cmd.DialCallback():
            return _dial_callback(books, c, now)
        case cmd.SendLink():
            return [Submit(c.call_id, SendLink(c.call_id, c.number, c.link))]
        case cmd.Supervise():
            return _supervise(books, c, now)
        case _:
            assert_never(c)


def _play(books: Books, c: cmd.Play) -> list[Effect]:
    call = books.calls.get(c.call_id)
    if call is None:
        return []
    playback = playback_id(c.call_id, c.prompt_id)
    books.playbacks[playback] = (c.call_id, c.prompt_id)
    call.playback = playback
    books.requested.add(playback)
    job = PlayPrompt(c.call_id, tuple(c.media), playback, c.language, c.prompt_id)
    return [Submit(c.call_id, job)]


def hold(books: Books, c: cmd.Hold) -> list[Effect]:
    if c.call_id not in books.calls:
        return []
    return [Submit(c.call_id, HoldCaller(c.call_id, c.queue, c.music_class))]


def _announce(books: Books, c: cmd.AnnounceWait, now: float) -> list[Effect]:
    media = wait_announcement(c.position, c.expected_wait_seconds)
    if not media:
        return []
    playback = books.next_id("pb", now)
    if c.call_id not in books.calls:
        return []
    return [Submit(c.call_id, Announce(c.call_id, tuple(media), playback, c.language))]


def _ring(books: Books, c: cmd.RingAgent, now: float) -> list[Effect]:
    call = books.calls.get(c.call_id)
    if call is None:
        # A callback from an earlier call's referral: the engine's call id is new.
        call = books.calls[c.call_id] = CallLegs(call_id=c.call_id)
    leg = new_leg(books, call, "agent", c.agent_id, now)
    call.agent = leg.channel_id
    variables = {"ACD_QUEUE": c.queue, "ACD_CALL": c.call_id, "ACD_AGENT": c.agent_id}
    return originate(books, "RingAgent", call, leg, c.endpoint, c.timeout, c.caller, variables)


def _dial_vendor(books: Books, c: cmd.DialVendor, now: float) -> list[Effect]:
    call = books.calls.get(c.call_id)
    if call is None:
        return []
    leg = new_leg(books, call, "vendor", "", now)
    call.vendor = leg.channel_id
    variables = {"ACD_QUEUE": c.queue, "ACD_CALL": c.call_id, "ACD_VENDOR": c.vendor}
    return originate(books, "DialVendor", call, leg, c.endpoint, c.timeout, c.caller, variables)


def _dial_callback(books: Books, c: cmd.DialCallback, now: float) -> list[Effect]:
    call = books.calls.get(c.call_id)
    if call is None:
        return []
    leg = new_leg(books, call, "callback", "", now)
    call.callback = leg.channel_id
    variables = {"ACD_CALL": c.call_id, "ACD_ATTEMPT": str(c.attempt)}
    number = centre_number(books, c.call_id)  # `live.caller_id` wins in `originate`
    return originate(books, "DialCallback", call, leg, c.endpoint, c.timeout, number, variables)


def _hangup_caller(books: Books, c: cmd.HangupCaller) -> list[Effect]:
    call = books.calls.get(c.call_id)
    if call is None:
        return []
    out: list[Effect] = []
    # A callback still ringing is the caller's line too.
    for channel in (call.callback, call.caller):
        leg = books.legs.get(channel)
        if leg is None or leg.gone:
            continue
        if channel == call.callback:
            leg.released = True
        out.append(Submit(c.call_id, HangUpCaller(channel, c.reason)))
    return out


def _supervise(books: Books, c: cmd.Supervise, now: float) -> list[Effect]:
    """Ring the supervisor; the rest follows their answer (supervise.supervision_up)."""
    call = books.calls.get(c.call_id)
    agent = books.legs.get(call.agent) if call is not None and call.agent else None
    if call is None or agent is None or agent.gone or not agent.answered:
        log.warning("supervise %s: the call has no agent leg in a conversation", c.call_id)
        return []
    if c.mode == "barge" and not call.talk_bridge:
        log.warning("barge into %s: the call is not bridged", c.call_id)
        return []
    leg = new_leg(books, call, "supervisor", c.agent_id, now)
    books.supervisions[leg.channel_id] = Supervision(
        call_id=c.call_id, mode=c.mode, supervisor=leg.channel_id, agent_leg=agent.channel_id
    )
    variables = {"ACD_CALL": c.call_id, "ACD_AGENT": c.agent_id, "ACD_SUPERVISE": c.mode}
    engine_call = books.engine.calls.get(c.call_id)
    number = engine_call.caller if engine_call is not None else ""
    return originate(
        books, "Supervise", call, leg, c.endpoint, SUPERVISOR_RING_SECONDS, number, variables
    )
