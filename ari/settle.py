"""What a leg answering or ending means, in the books and for the engine.

These are the rules every input comes back to: an ARI event (ari/translate.py), a
request that failed (ari/jobs.py), and what the reconciliation found
(ari/reconcile.py). Each changes the books and returns the effects to carry out, in
order (ari/effects.py); none does IO.
"""

from __future__ import annotations

from typing import assert_never

from acd.ari.books import MAX_SAMPLES, Books, destroy_bridge
from acd.ari.effects import (
    Deferred,
    Dial,
    Effect,
    Feed,
    Forget,
    LegAnswered,
    LegEnded,
    Rebridge,
    Stamp,
    Submit,
    Talk,
    Unstamp,
)
from acd.ari.legs import SUPERVISION_KINDS, TALK_PREFIX, CallLegs, Leg, end_event
from acd.ari.supervise import supervision_gone, supervision_up
from acd.engine import events as ev


def answered(books: Books, leg: Leg, now: float) -> list[Effect]:
    """The far end of a leg we originated picked up (its StasisStart): an agent's
    answer is news for the engine; a vendor is bridged with the caller at once; an
    answered callback becomes the caller's line."""
    leg.answered = True
    call = books.calls.get(leg.call_id)
    if call is None:
        return []
    if leg.kind in SUPERVISION_KINDS:
        return supervision_up(books, call, leg, now)
    out: list[Effect] = []
    if len(books.stats.bridge_ms) < MAX_SAMPLES:
        out.append(Stamp("bridge", leg.channel_id))
    if leg.kind == "agent":
        out.append(Feed(ev.AgentAnswered(agent_id=leg.agent_id, call_id=call.call_id)))
    elif leg.kind == "vendor":
        out += talk(books, call, leg.channel_id, now)
        out.append(Feed(ev.VendorAnswered(call_id=call.call_id)))
    elif leg.kind == "callback":
        call.callback = ""
        call.caller = leg.channel_id
        out.append(Feed(ev.CallbackAnswered(call_id=call.call_id)))
    return out


def gone(books: Books, leg: Leg) -> list[Effect]:
    """The leg's channel ended; tell the engine what that means (ari.legs.end_event),
    once. Its supervisions end; a talk bridge it leaves empty is destroyed; the call
    is forgotten once the engine is done with it (after the engine has heard)."""
    if leg.gone:
        return []
    leg.gone = True
    out: list[Effect] = []
    if leg.answered and leg.kind not in SUPERVISION_KINDS:
        out.append(Unstamp("bridge", leg.channel_id))
    call = books.calls.get(leg.call_id)
    if leg.kind == "feature" or call is None:
        books.legs.pop(leg.channel_id, None)
        return out
    out += supervision_gone(books, call, leg)
    event = end_event(leg, call)
    if (
        leg.bridge.startswith(TALK_PREFIX)
        and call.talk_bridge == leg.bridge
        # A barging supervisor leaving an agent's kept bridge ends no conversation.
        and not (leg.kind == "supervisor" and leg.bridge in books.kept_bridges)
    ):
        out += release_talk_bridge(books, call)
    if event is not None:
        out.append(Feed(event))
    out.append(Forget(call.call_id))
    return out


def release_talk_bridge(books: Books, call: CallLegs) -> list[Effect]:
    """The conversation is over: its bridge is destroyed once nobody is left in it;
    an agent's own bridge waits for their next call."""
    bridge = call.talk_bridge
    if bridge in books.kept_bridges:
        call.talk_bridge = ""
        return []
    if any(
        books.legs[c].bridge == bridge and not books.legs[c].gone
        for c in call.legs
        if c in books.legs
    ):
        return []
    call.talk_bridge = ""
    return [destroy_bridge(call.call_id, bridge)]


def forget_if_done(books: Books, call_id: str) -> None:
    """Drop a call's legs once the engine has no such call and every leg has ended."""
    call = books.calls.get(call_id)
    if call is None or call_id in books.engine.calls:
        return
    if all(books.legs[c].gone for c in call.legs if c in books.legs):
        for c in call.legs:
            books.legs.pop(c, None)
        books.calls.pop(call_id, None)
        if call.playback:
            books.playbacks.pop(call.playback, None)


def talk(books: Books, call: CallLegs, partner: str, now: float) -> list[Effect]:
    """Put the caller and `partner` (agent or vendor leg) in a mixing bridge, unless
    they are in one together already (a predecessor bridged them).

    An agent talks in a bridge of their own, kept from call to call
    (`acd-talk-agent-<id>`): a conversation then costs one request (the add, which
    also takes the caller out of the holding bridge) instead of four. A vendor
    call, or an agent whose bridge still holds someone, gets a bridge of its own,
    destroyed when the call ends."""
    caller, other = books.legs.get(call.caller), books.legs.get(partner)
    if (
        caller is not None and other is not None and caller.bridge == other.bridge
        and caller.bridge.startswith(TALK_PREFIX)
    ):
        call.talk_bridge = caller.bridge
        return []
    bridge = ""
    if other is not None and other.kind == "agent" and other.agent_id:
        own = f"{TALK_PREFIX}agent-{other.agent_id}"
        if not any(leg.bridge == own and not leg.gone for leg in books.legs.values()):
            bridge = own
    kept = bool(bridge)
    bridge = bridge or books.next_id("talk", now)  # acd-talk-...: TALK_PREFIX
    call.talk_bridge = bridge
    return [Submit(call.call_id, Talk(call.call_id, partner, bridge, kept))]


def prompt_finished(books: Books, playback: str) -> list[Effect]:
    """A tracked prompt's playback has ended (its `PlaybackFinished`, or Asterisk no
    longer has it): the engine hears `PromptFinished`; nothing for an untracked one."""
    tracked = books.playbacks.pop(playback, None)
    if tracked is None:
        return []
    call_id, prompt_id = tracked
    call = books.calls.get(call_id)
    if call is not None and call.playback == playback:
        call.playback = ""
    return [Feed(ev.PromptFinished(call_id=call_id, prompt_id=prompt_id))]


def originate(
    books: Books,
    command: str,
    call: CallLegs,
    leg: Leg,
    endpoint: str,
    timeout: float,
    caller_number: str,
    variables: dict[str, str],
) -> list[Effect]:
    """Dial `endpoint` for the call as `leg`; a refused originate is the leg failing."""
    number = books.live.caller_id or caller_number
    leg.dialling = True
    job = Dial(
        call_id=call.call_id,
        channel=leg.channel_id,
        endpoint=endpoint,
        timeout=timeout,
        caller_id=f'"ACD" <{number}>' if number else "",
        variables=tuple(variables.items()),
        command=command,
    )
    return [Submit(call.call_id, job)]


def resume(books: Books, step: Deferred, now: float) -> list[Effect]:
    """Carry out a deferred step, now that the effects before it have been."""
    match step:
        case Forget():
            forget_if_done(books, step.call_id)
            return []
        case LegEnded():
            leg = books.legs.get(step.channel)
            return gone(books, leg) if leg is not None else []
        case LegAnswered():
            leg = books.legs.get(step.channel)
            return answered(books, leg, now) if leg is not None else []
        case Rebridge():
            leg = books.legs.get(step.channel)
            if leg is not None:
                leg.bridge = step.bridge
            return []
        case _:
            assert_never(step)
