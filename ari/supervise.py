"""Supervisors on calls, in the books: never news for the engine.

A supervisor (`Supervise`) is rung on a leg `supervisor,<call>`; on answer, to listen
or whisper, the agent's leg is snooped (spy both, whisper out: what the agent's phone
is sent) into a snoop channel `snoop,<call>`, and the two are bridged in a spy bridge;
to barge, the supervisor joins the call's talk bridge. When either the supervisor or
the conversation ends, the rest is hung up and the spy bridge destroyed.
"""

from __future__ import annotations

import logging

from acd.ari.books import Books, destroy_bridge, new_leg, release
from acd.ari.effects import Barge, Effect, SpyAdd, StartSnoop, Submit
from acd.ari.legs import SPY_PREFIX, SUPERVISION_KINDS, CallLegs, Leg, Supervision
from acd.ari.ops import Failure

log = logging.getLogger("acd.controller")


def supervision_of(books: Books, leg: Leg) -> Supervision | None:
    """The supervision a supervisor's leg or a snoop channel belongs to, if it lasts."""
    if leg.kind == "supervisor":
        return books.supervisions.get(leg.channel_id)
    for sup in books.supervisions.values():
        if sup.snoop == leg.channel_id:
            return sup
    return None


def supervision_up(books: Books, call: CallLegs, leg: Leg, now: float) -> list[Effect]:
    """A supervisor answered (barge: join the talk; else snoop the agent's leg), or
    their snoop channel entered Stasis (bridge it with the supervisor)."""
    sup = supervision_of(books, leg)
    if sup is None:
        return release(books, leg.channel_id, call.call_id)  # its supervision already ended
    if leg.kind == "snoop":
        return [Submit(sup.call_id, SpyAdd(sup.call_id, sup.supervisor, leg.channel_id, sup.mode))]
    if sup.mode == "barge":
        job = Barge(call.call_id, leg.channel_id, call.talk_bridge, sup.mode)
        return [Submit(call.call_id, job)]
    return _snoop(books, call, sup, now)


def _snoop(books: Books, call: CallLegs, sup: Supervision, now: float) -> list[Effect]:
    agent = books.legs.get(sup.agent_leg)
    if agent is None or agent.gone:
        return end_supervision(books, sup)
    snoop = new_leg(books, call, "snoop", agent.agent_id, now)
    snoop.dialling = True
    sup.snoop = snoop.channel_id
    sup.bridge = f"{SPY_PREFIX}{books.unique(now)}"
    whisper = "out" if sup.mode == "whisper" else "none"
    job = StartSnoop(
        call.call_id, sup.supervisor, snoop.channel_id, agent.channel_id, whisper, sup.mode
    )
    return [Submit(call.call_id, job)]


def supervision_failed(
    books: Books, call_id: str, mode: str, supervisor: str, failure: Failure
) -> list[Effect]:
    """A REST call of a supervision failed: logged, and the supervision ends (the
    conversation itself is untouched)."""
    books.stats.rest_failures += 1
    log.warning("supervision (%s) of call %s failed: %s", mode, call_id, failure.text)
    sup = books.supervisions.get(supervisor)
    return end_supervision(books, sup) if sup is not None else []


def supervision_gone(books: Books, call: CallLegs, leg: Leg) -> list[Effect]:
    """A leg of a call ended: a supervisor or a snoop ends its supervision; an
    answered party of the conversation ends every supervision of the call."""
    if leg.kind in SUPERVISION_KINDS:
        sup = supervision_of(books, leg)
        return end_supervision(books, sup) if sup is not None else []
    out: list[Effect] = []
    if leg.answered:
        for sup in [s for s in books.supervisions.values() if s.call_id == call.call_id]:
            out += end_supervision(books, sup)
    return out


def end_supervision(books: Books, sup: Supervision) -> list[Effect]:
    """Hang up the supervisor's leg and the snoop channel, destroy the spy bridge."""
    if books.supervisions.pop(sup.supervisor, None) is None:
        return []
    out: list[Effect] = []
    for channel in (sup.supervisor, sup.snoop):
        if channel:
            out += release(books, channel, sup.call_id)
    if sup.bridge:
        out.append(destroy_bridge(sup.call_id, sup.bridge))
    return out
