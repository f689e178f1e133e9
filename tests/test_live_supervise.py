"""Supervisors listen, whisper and barge on a live call, end to end over real sockets:
the controller drives the virtual PBX (which snoops as Asterisk 22 does: a `Snoop/`
channel entering Stasis) and each mode is checked from the phones' side (whose phone
rang, who is bridged with whom) and in the PBX's channels and bridges."""

from __future__ import annotations

import pytest

from acd.engine import events as ev
from acd.engine.events import SuperviseMode
from tests.live import Caller, Floor, Phone, run_live

SITE = """
site: {name: live, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 5, ring_timeout_seconds: 10}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: "1001", endpoint: PJSIP/agent1001, pool: floor, skills: [{skill: gen, level: 3}]}
"""

SUPERVISOR = "PJSIP/sup01"


async def in_conversation(f: Floor) -> tuple[Caller, Phone, str]:
    """A caller talking to agent 1001: (the caller, the agent's phone, the call id)."""
    agent = f.phone("PJSIP/agent1001", answer_after=1.0, talk=None)
    await f.login("PJSIP/agent1001")
    caller = f.caller()
    line = f.call(caller)
    await f.until(lambda: bool(caller.bridged_with))
    return caller, agent, line.channel_id


async def supervising(
    f: Floor, call_id: str, mode: SuperviseMode
) -> tuple[Phone, str]:
    """The supervisor asks for `mode` and answers: (their phone, their channel id)."""
    sup = f.phone(SUPERVISOR, answer_after=1.0, talk=None)
    f.controller.feed(ev.SuperviseCall(call_id=call_id, endpoint=SUPERVISOR, mode=mode))
    await f.until(lambda: bool(sup.conversations))
    assert sup.rings == 1 and sup.answered == 1
    return sup, sup.lines[-1].channel_id


def snoops(f: Floor) -> list[str]:
    return [c.id for c in f.pbx.asterisk.channels.values() if c.name.startswith("Snoop/")]


@pytest.mark.parametrize(("mode", "whisper"), [("listen", "none"), ("whisper", "out")])
def test_listen_and_whisper_bridge_the_supervisor_with_a_snoop_on_the_agent(
    mode: SuperviseMode, whisper: str
) -> None:
    async def scenario(f: Floor) -> None:
        caller, agent, call_id = await in_conversation(f)
        agent_leg = f.controller.calls[call_id].agent
        sup, sup_leg = await supervising(f, call_id, mode)
        [snoop_id] = snoops(f)
        snoop = f.pbx.asterisk.channels[snoop_id]
        # The snoop spies on both directions of the agent's leg; whisper speaks into
        # what the agent's phone is sent ("out"), so only the agent hears it.
        assert (snoop.spyee, snoop.spy, snoop.whisper) == (agent_leg, "both", whisper)
        assert snoop.in_stasis and snoop.stasis_args == ["snoop", call_id]
        # The supervisor's phone is bridged with the snoop alone, in a bridge of its
        # own; the conversation's bridge is untouched.
        assert sup.conversations[-1] == [snoop_id]
        spy = f.pbx.asterisk.channels[sup_leg].bridge
        assert spy is not None and {c.id for c in spy.channels} == {sup_leg, snoop_id}
        talk = f.pbx.asterisk.channels[call_id].bridge
        assert talk is not None and {c.id for c in talk.channels} == {call_id, agent_leg}
        assert agent.conversations == [[call_id]] and caller.bridged_with == [agent_leg]
        assert f.engine.anomalies == {} and f.controller.stats.calls == 1  # no new caller
        # The caller hangs up: the supervisor's leg and the snoop are hung up too.
        assert caller.line is not None
        caller.line.hang_up()
        await f.until(lambda: bool(sup.ended_by_pbx))
        await f.until(lambda: not snoops(f) and not f.controller.supervisions)
        assert spy.id not in f.pbx.asterisk.bridges
        await f.until(lambda: f.controller.calls == {})
        assert f.outcomes() == {"answered": 1}

    run_live(SITE, scenario)


def test_barge_puts_the_supervisor_in_the_calls_own_bridge() -> None:
    async def scenario(f: Floor) -> None:
        caller, _agent, call_id = await in_conversation(f)
        agent_leg = f.controller.calls[call_id].agent
        sup, sup_leg = await supervising(f, call_id, "barge")
        assert not snoops(f)
        assert sorted(sup.conversations[-1]) == sorted([call_id, agent_leg])
        talk = f.pbx.asterisk.channels[call_id].bridge
        assert talk is not None
        assert {c.id for c in talk.channels} == {call_id, agent_leg, sup_leg}
        await f.until(lambda: sup_leg in caller.bridged_with)  # everyone hears everyone
        assert caller.line is not None
        caller.line.hang_up()
        await f.until(lambda: bool(sup.ended_by_pbx))
        await f.until(lambda: f.controller.calls == {} and not f.controller.supervisions)
        assert talk.id not in f.pbx.asterisk.bridges or not talk.channels

    run_live(SITE, scenario)


def test_the_supervisor_hanging_up_ends_the_snoop_and_the_call_goes_on() -> None:
    async def scenario(f: Floor) -> None:
        caller, _agent, call_id = await in_conversation(f)
        sup, _sup_leg = await supervising(f, call_id, "listen")
        [snoop_id] = snoops(f)
        sup.lines[-1].hang_up()
        await f.until(lambda: not snoops(f) and not f.controller.supervisions)
        assert not any(b.id.startswith("acd-spy-") for b in f.pbx.asterisk.bridges.values())
        assert f.pbx.asterisk.channels[call_id].bridge is not None
        assert caller.ended_by_pbx is None and f.engine.calls[call_id].state == "connected"
        assert snoop_id not in f.controller.legs or f.controller.legs[snoop_id].gone

    run_live(SITE, scenario)


def test_a_snoop_the_pbx_refuses_is_a_logged_problem_and_the_supervisor_is_hung_up() -> None:
    async def scenario(f: Floor) -> None:
        caller, _agent, call_id = await in_conversation(f)
        sup = f.phone(SUPERVISOR, answer_after=1.0, talk=None)
        f.pbx.fail_next(1, 500, path="/channels/*/snoop")
        f.controller.feed(ev.SuperviseCall(call_id=call_id, endpoint=SUPERVISOR, mode="whisper"))
        await f.until(lambda: bool(sup.ended_by_pbx))
        await f.until(lambda: not f.controller.supervisions)
        assert f.controller.stats.rest_failures >= 1 and not snoops(f)
        assert caller.ended_by_pbx is None and f.engine.calls[call_id].state == "connected"

    run_live(SITE, scenario)
