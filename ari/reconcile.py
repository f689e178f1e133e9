"""Reconciliation as a pure diff: the books and the engine's view against Asterisk's
own lists (already fetched), after the events socket comes back from a gap or when
this engine takes over from another.

The executor (ari/controller.py) fetches the lists and calls these in turn, carrying
out each one's effects before the next is asked, since what the engine expects of a
call depends on what it has just been told:

1. `idle_bridges`: bridges of ours serving nobody, to destroy;
2. `adopt`, per channel we did not know: a caller's channel is the id of an engine
   call; a leg we originated names its call and agent in its id (ari.legs.leg_id);
   a stranger in our application is served as new;
3. `settle_legs`: legs that vanished are settled as if their end had been seen, an
   agent leg found Up is taken as answered, and every leg's bridge is Asterisk's;
4. per engine call, `missing_legs` then `repair`: what the engine expects but
   Asterisk no longer has is settled too (a caller gone, an agent's leg gone:
   offered again); a connected pair not bridged is bridged, a waiting caller not
   on hold is put on hold;
5. `waited_prompts`, then `prompt_gone` for each whose playback Asterisk no longer
   has: it has finished.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from acd.ari import models
from acd.ari.books import Books, new_leg
from acd.ari.effects import Effect, LegAnswered, LegEnded, Quiet, Rebridge, Spawn
from acd.ari.legs import (
    HOLD_PREFIX,
    SUPERVISION_KINDS,
    TALK_PREFIX,
    CallLegs,
    Leg,
    LegKind,
    parse_leg_id,
    playback_id,
)
from acd.ari.ops import Hangup
from acd.ari.settle import gone, prompt_finished, talk
from acd.ari.translate import FEATURES, feature, hold, inbound
from acd.engine import CallState
from acd.engine import commands as cmd

log = logging.getLogger("acd.controller")


def idle_bridges(books: Books, bridges: list[models.Bridge], *, holding: bool) -> list[str]:
    """The bridges of ours that hold nobody and serve no call: a talk bridge no call
    of ours is being bridged in (its conversation ended while no engine was there, or
    an add failed), a holding bridge of a queue that is no longer configured, and
    with `holding` (at shutdown) every empty holding bridge. Bridges with people in
    them are left alone."""
    talking = {call.talk_bridge for call in books.calls.values()}
    idle: list[str] = []
    for bridge in bridges:
        if bridge.channels:
            continue
        if bridge.id.startswith(TALK_PREFIX):
            if bridge.id not in talking:
                idle.append(bridge.id)
        elif bridge.id.startswith(HOLD_PREFIX):
            queue = bridge.id.removeprefix(HOLD_PREFIX)
            if holding or queue not in books.site.queues:
                idle.append(bridge.id)
    return idle


def drop_bridge(books: Books, bridge: str) -> None:
    """`bridge` is being destroyed: no agent's kept bridge any more."""
    books.kept_bridges.discard(bridge)
    books.stats.bridges_removed += 1


def members(bridges: list[models.Bridge]) -> dict[str, str]:
    """channel id -> the holding or talk bridge of ours it is in."""
    ours = [b for b in bridges if b.id.startswith((HOLD_PREFIX, TALK_PREFIX))]
    return {c: b.id for b in ours for c in b.channels}


def adopt(books: Books, ch: models.Channel, bridge: str, now: float) -> list[Effect]:
    """Take a channel we did not know into our books (a predecessor's leg)."""
    engine = books.engine
    if ch.id in engine.calls:
        call = books.calls.setdefault(ch.id, CallLegs(call_id=ch.id))
        leg = Leg(ch.id, "caller", ch.id, answered=True, bridge=bridge)
        call.caller = ch.id
    else:
        parsed = parse_leg_id(ch.id)
        if parsed is None:
            return _adopt_stranger(books, ch, now)
        kind, call_id, agent_id = parsed
        if call_id not in engine.calls or kind in SUPERVISION_KINDS:
            # Our leg, for a call that is over, or a supervision a predecessor
            # started (its session is not known here): nobody needs it any more.
            books.stats.stray_events += 1
            return [Spawn(Quiet(Hangup(ch.id)))]
        call = books.calls.setdefault(call_id, CallLegs(call_id=call_id))
        # An agent or vendor leg that is up while the engine still has it ringing
        # (the predecessor's journal lost the answer) is news: left unanswered
        # here, reconciliation reports the answer, or the engine would ring
        # another agent for a caller who is already talking.
        ringing = engine.calls[call_id].state in (CallState.OFFERED, CallState.VENDOR_DIALING)
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
    books.legs[ch.id] = leg
    call.legs.append(ch.id)
    if bridge.startswith(TALK_PREFIX):
        call.talk_bridge = bridge
    return []


def _adopt_stranger(books: Books, ch: models.Channel, now: float) -> list[Effect]:
    """A channel in our Stasis application that we never heard of: its StasisStart
    went to a predecessor (paused, or dying) or was lost in a gap. An inbound caller
    is taken as a new call (better late than left in silence); a feature call is
    served; a call the engine already ended is hung up."""
    app, *args = ch.dialplan.app_data.split(",") if ch.dialplan.app_data else [""]
    if ch.dialplan.app_name != "Stasis" or app != books.app:
        return []  # not ours: another application's channel
    books.stats.adopted += 1
    if books.engine.has_ended(ch.id) or (args and args[0] not in FEATURES):
        return [Spawn(Quiet(Hangup(ch.id)))]
    if args:
        return feature(books, ch, args[0], args[1:], now)
    log.info("adopting caller %s whose arrival we never heard of", ch.id)
    return inbound(books, ch, now)


def settle_legs(
    books: Books, channels: Mapping[str, models.Channel], bridged: Mapping[str, str]
) -> list[Effect]:
    """Every leg we know that is not being dialled, against Asterisk's channels:
    vanished, it has ended; present, it is in the bridge Asterisk says (`bridged`),
    and if it is Up it has answered (a snoop channel is Up from birth: its
    StasisStart is its answer). In the books' order, as deferred steps, so that each
    is settled after the engine has heard of the ones before."""
    out: list[Effect] = []
    for leg in list(books.legs.values()):
        if leg.gone or leg.dialling:
            continue
        found = channels.get(leg.channel_id)
        if found is None:
            books.stats.reconciled_gone += 1
            out.append(LegEnded(leg.channel_id))
            continue
        bridge = bridged.get(leg.channel_id, "")
        if leg.bridge != bridge:
            out.append(Rebridge(leg.channel_id, bridge))
        if not leg.answered and found.state == "Up" and leg.kind not in ("feature", "snoop"):
            books.stats.reconciled_answered += 1
            out.append(LegAnswered(leg.channel_id))
    return out


def missing_legs(
    books: Books, call_id: str, channels: Mapping[str, models.Channel], now: float
) -> tuple[list[Effect], bool]:
    """Settle the leg the engine counts on for `call_id` that the PBX does not hold
    (a phantom leg, ended at once: its end is news). Returns the effects, and
    whether to go on to `repair` (not when the caller's line is the one missing)."""
    call = books.engine.calls[call_id]
    legs = books.calls.setdefault(call_id, CallLegs(call_id=call_id))
    state = call.state

    def phantom(kind: LegKind, answered: bool, agent_id: str = "") -> list[Effect]:
        leg = new_leg(books, legs, kind, agent_id, now)
        leg.answered = answered
        if kind == "caller":
            legs.caller = leg.channel_id
        books.stats.reconciled_gone += 1
        return gone(books, leg)

    line = legs.caller if legs.caller in channels else ""
    if call.line_up and not line and state is not CallState.DIALING_BACK:
        if not legs.caller or legs.caller not in books.legs:
            return phantom("caller", True), False
        return [], False
    if state in (CallState.OFFERED, CallState.CONNECTING, CallState.CONNECTED) and not (
        legs.agent and legs.agent in books.legs
    ):
        return phantom("agent", state is not CallState.OFFERED, call.agent_id), True
    if state is CallState.DIALING_BACK and not (legs.callback or legs.caller in channels):
        return phantom("callback", False), True
    if state in (CallState.VENDOR_DIALING, CallState.VENDOR_CONNECTED) and not (
        legs.vendor and legs.vendor in books.legs
    ):
        return phantom("vendor", state is CallState.VENDOR_CONNECTED), True
    return [], True


def repair(books: Books, call_id: str, *, busy: bool, now: float) -> list[Effect]:
    """A waiting caller not on hold is put on hold; a connected caller and agent not
    in one bridge are bridged. Not while the call's lane is `busy` (its own Hold or
    Connect is still on the way), nor once the engine is done with the call."""
    if call_id not in books.engine.calls or busy:
        return []
    call = books.engine.calls[call_id]
    legs = books.calls.setdefault(call_id, CallLegs(call_id=call_id))
    caller = books.legs.get(legs.caller)
    if call.state is CallState.WAITING and caller is not None and not caller.gone:
        if not caller.bridge.startswith(HOLD_PREFIX):
            music = books.site.queues[call.queue].music_on_hold
            return hold(books, cmd.Hold(call_id=call_id, queue=call.queue, music_class=music))
    elif call.state is CallState.CONNECTED and caller is not None and legs.agent:
        agent = books.legs.get(legs.agent)
        if agent is not None and not agent.gone and (
            not caller.bridge or caller.bridge != agent.bridge
        ):
            return talk(books, legs, legs.agent, now)
    return []


def waited_prompts(books: Books) -> list[str]:
    """The playbacks whose end the engine waits for (its view names them even when
    the books lost them), to ask Asterisk about in turn, except those still
    `asked_for` when their turn comes."""
    for call in list(books.engine.calls.values()):
        waited = []
        if call.prompt_id and call.prompt_kind not in ("", "digit"):
            waited.append(call.prompt_id)
        if call.protection_prompt_id and not call.protection_done:
            waited.append(call.protection_prompt_id)
        for prompt in waited:
            books.playbacks.setdefault(playback_id(call.id, prompt), (call.id, prompt))
    return list(books.playbacks)


def asked_for(books: Books, playback: str) -> bool:
    """Its request is on the way: not started yet, so not finished either."""
    return playback in books.requested


def prompt_gone(books: Books, playback: str) -> list[Effect]:
    """Asterisk has no such playback (any more): the prompt has finished."""
    finished = prompt_finished(books, playback)
    if finished:
        books.stats.reconciled_prompts += 1
    return finished
