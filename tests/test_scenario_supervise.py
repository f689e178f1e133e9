"""Supervisors listen to, whisper to and barge into calls: the engine asks the PBX to
ring the supervisor's phone (a `Supervise` command) only for a call in conversation
with an agent, and refuses (an anomaly, no command) otherwise. The engine keeps no
state for it: the same events give the same commands, and nothing else changes."""

from __future__ import annotations

import msgspec
import pytest

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.states import AgentState, CallState
from tests.harness import Floor

SITE = """
site: {name: supervise, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 30, ring_timeout_seconds: 15}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
abusive: {warning: ["sound:abuse-warning"], cool_down_seconds: 120}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
"""

REFUSED = "supervision of a call not in a conversation with an agent"


def supervise(f: Floor, call_id: str, mode: ev.SuperviseMode) -> list[cmd.Command]:
    return f.send(ev.SuperviseCall(call_id=call_id, endpoint="PJSIP/sup01", mode=mode))


def connected(f: Floor, call_id: str = "c1") -> None:
    f.login("a1")
    f.call(call_id)
    f.advance(1)
    f.answer("a1", call_id)
    f.advance(1)
    assert f.call_state(call_id) is CallState.CONNECTED


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
def test_a_connected_call_rings_the_supervisor_in_the_mode_asked(mode: ev.SuperviseMode) -> None:
    f = Floor(SITE)
    connected(f)
    out = supervise(f, "c1", mode)
    assert out == [cmd.Supervise(call_id="c1", agent_id="a1", endpoint="PJSIP/sup01", mode=mode)]
    assert f.engine.anomalies == {}
    # Nothing else moves: the call and the agent are where they were.
    assert f.call_state("c1") is CallState.CONNECTED
    assert f.agent_state("a1") is AgentState.ON_CALL


def test_a_waiting_call_is_refused_with_an_anomaly_and_no_command() -> None:
    f = Floor(SITE)
    f.call("c1")  # nobody logged in: waits
    f.advance(1)
    assert f.call_state("c1") is CallState.WAITING
    assert supervise(f, "c1", "listen") == []
    assert f.engine.anomalies == {REFUSED: 1}


def test_a_ringing_call_is_refused() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.advance(1)
    assert f.call_state("c1") is CallState.OFFERED
    assert supervise(f, "c1", "barge") == []
    assert f.engine.anomalies == {REFUSED: 1}


def test_an_unknown_or_ended_call_is_refused() -> None:
    f = Floor(SITE)
    connected(f)
    f.hang_up("c1")
    assert supervise(f, "c1", "whisper") == []
    assert supervise(f, "nope", "listen") == []
    assert f.engine.anomalies == {"supervision for unknown call": 2}


def test_a_call_whose_caller_is_being_warned_is_refused() -> None:
    f = Floor(SITE)
    connected(f)
    f.send(ev.AgentFlaggedAbusive(agent_id="a1", call_id="c1"))
    assert f.call_state("c1") is CallState.WARNING
    assert supervise(f, "c1", "listen") == []
    assert f.engine.anomalies == {REFUSED: 1}


def test_supervision_is_journaled_and_replays_to_the_same_commands() -> None:
    def run() -> bytes:
        f = Floor(SITE)
        connected(f)
        supervise(f, "c1", "whisper")
        f.advance(30)
        f.agent_hangs_up("a1", "c1")
        f.advance(60)
        return f.encode_log()

    first = run()
    assert first == run()
    # The event survives the journal's encoding as itself.
    event = ev.SuperviseCall(call_id="c1", endpoint="PJSIP/sup01", mode="barge")
    assert ev.EVENT_DECODER.decode(msgspec.json.encode(event)) == event
