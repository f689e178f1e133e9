"""Agents as they live a shift: logging in, ringing, talking, wrap-up, breaks,
missed rings, callers who give up while the phone rings, abusive callers and the
worker-protection announcement before the caller is put through.

Callers reach the queue as soon as they call (no menu). The queue's wrap-up is
30 s and its ring timeout 15 s; two misses in a row pause an agent, one miss rests
the agent 5 s; an abusive caller earns the agent a 120 s cool-down.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.snapshot import take
from acd.engine.states import AgentState
from tests.harness import Floor

A = AgentState

SITE = """
site: {name: agents, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 30, ring_timeout_seconds: 15}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
missed_ring: {pause_after: 2, rest_seconds: 5}
abusive: {warning: ["sound:abuse-warning"], cool_down_seconds: 120}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: gen, level: 3}]}
"""

PROTECTED = SITE.replace(
    "ring_timeout_seconds: 15}",
    'ring_timeout_seconds: 15, pre_connect: ["sound:we-protect-our-staff"]}',
)


def connects(f: Floor, call_id: str) -> list[str]:
    return [c.agent_id for c in f.commands(cmd.Connect, call_id)]


def talk(f: Floor, agent: str, call_id: str, seconds: float) -> None:
    """The agent answers, talks `seconds`, and hangs up."""
    f.answer(agent, call_id)
    f.advance(seconds)
    f.agent_hangs_up(agent, call_id)


# ---------------------------------------------------------------- a shift's states


def test_an_agent_moves_login_ring_talk_wrap_up_and_back() -> None:
    f = Floor(SITE)
    f.login("a1")
    assert f.agent_state("a1") is A.AVAILABLE
    f.advance(20)
    f.call("c1")
    assert f.rung("c1") == ["a1"]
    assert f.agent_state("a1") is A.RESERVED
    f.advance(3)
    out = f.answer("a1", "c1")
    assert cmd.Connect(call_id="c1", agent_id="a1") in out
    assert f.agent_state("a1") is A.ON_CALL
    f.advance(60)
    f.agent_hangs_up("a1", "c1")
    hung_up_at = f.now
    assert f.agent_state("a1") is A.WRAP_UP
    assert f.engine.agents["a1"].state_since == hung_up_at  # the wallboard's time in state
    f.advance(29.9)
    assert f.agent_state("a1") is A.WRAP_UP
    f.advance(0.1)
    assert f.agent_state("a1") is A.AVAILABLE
    assert f.engine.agents["a1"].state_since == hung_up_at + 30
    assert f.outcome("c1") == "answered"
    assert cmd.HangupCaller(call_id="c1") in f.commands(cmd.HangupCaller, "c1")


def test_caller_waiting_during_wrap_up_is_rung_when_wrap_up_ends() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    talk(f, "a1", "c1", 60)
    f.advance(10)
    f.call("c2")
    assert f.rung("c2") == []
    f.advance(20)
    assert f.rung("c2") == ["a1"]


def test_pause_with_a_reason_holds_calls_until_unpause() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.send(ev.AgentPause(agent_id="a1", reason="lunch"))
    assert f.agent_state("a1") is A.PAUSED
    assert f.engine.agents["a1"].reason == "lunch"
    f.call("c1")
    f.advance(600)
    assert f.rung("c1") == []
    f.send(ev.AgentUnpause(agent_id="a1"))
    assert f.agent_state("a1") is A.RESERVED
    assert f.rung("c1") == ["a1"]


def test_pause_asked_on_a_call_applies_after_wrap_up() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.send(ev.AgentPause(agent_id="a1", reason="coaching"))
    assert f.agent_state("a1") is A.ON_CALL  # the conversation is not cut short
    f.call("c2")
    f.agent_hangs_up("a1", "c1")
    assert f.agent_state("a1") is A.WRAP_UP
    f.advance(30)
    assert f.agent_state("a1") is A.PAUSED
    assert f.engine.agents["a1"].reason == "coaching"
    assert f.rung("c2") == []


def test_logout_asked_on_a_call_applies_after_wrap_up() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.send(ev.AgentLogout(agent_id="a1"))
    assert f.agent_state("a1") is A.ON_CALL
    f.call("c2")
    f.agent_hangs_up("a1", "c1")
    f.advance(29)
    assert f.agent_state("a1") is A.WRAP_UP
    f.advance(1)
    assert f.agent_state("a1") is A.LOGGED_OUT
    assert f.rung("c2") == []


def test_ready_ends_wrap_up_early_and_takes_the_waiting_caller() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    talk(f, "a1", "c1", 40)
    f.call("c2")
    f.advance(8)
    out = f.send(ev.AgentReady(agent_id="a1"))
    assert [r.call_id for r in out if isinstance(r, cmd.RingAgent)] == ["c2"]
    assert f.agent_state("a1") is A.RESERVED
    assert f.queue("gen").wrap_up_seconds == 8  # after-call work as it really was


# ---------------------------------------------------------------- missed rings


def test_ring_timeout_moves_the_call_to_the_next_agent() -> None:
    f = Floor(SITE)
    f.login("a1", "a2")
    f.call("c1")
    assert f.rung("c1") == ["a1"]
    f.advance(14.9)
    assert f.rung("c1") == ["a1"]
    out = f.advance(0.1)
    assert cmd.CancelRing(call_id="c1", agent_id="a1") in out
    assert f.rung("c1") == ["a1", "a2"]
    assert f.agent_state("a1") is A.RESTING  # a short rest after a miss
    f.advance(5)
    assert f.agent_state("a1") is A.AVAILABLE


def test_busy_and_unreachable_phones_are_misses_too() -> None:
    f = Floor(SITE)
    f.login("a1", "a2")
    f.call("c1")
    f.miss("a1", "c1", cause="busy")
    assert f.rung("c1") == ["a1", "a2"]
    f.miss("a2", "c1", cause="unreachable")
    assert f.agent_state("a2") is A.RESTING
    f.advance(5)  # both rested: a1 first, the longer idle
    assert f.rung("c1") == ["a1", "a2", "a1"]


def test_missed_call_keeps_its_place_ahead_of_later_callers() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("first")
    f.advance(2)
    f.call("second")
    f.miss("a1", "first", cause="busy")
    f.advance(5)  # the agent's rest is over
    assert f.rung() == ["a1", "a1"]
    assert f.rung("first") == ["a1", "a1"]
    assert f.rung("second") == []


def test_two_misses_in_a_row_pause_the_agent_with_reason_missed() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.advance(15)  # first miss: rest
    assert f.agent_state("a1") is A.RESTING
    f.advance(5)
    assert f.rung("c1") == ["a1", "a1"]
    f.advance(15)  # second miss: paused
    assert f.agent_state("a1") is A.PAUSED
    assert f.engine.agents["a1"].reason == "missed"
    f.advance(300)
    assert f.rung("c1") == ["a1", "a1"]
    f.send(ev.AgentUnpause(agent_id="a1"))
    assert f.rung("c1") == ["a1", "a1", "a1"]


def test_after_unpausing_a_single_miss_rests_the_agent_rather_than_pausing() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.miss("a1", "c1")
    f.advance(5)
    f.miss("a1", "c1")
    assert f.agent_state("a1") is A.PAUSED
    f.send(ev.AgentUnpause(agent_id="a1"))
    f.miss("a1", "c1")  # the count of misses in a row started again
    assert f.agent_state("a1") is A.RESTING
    # The wallboard shows the rest as Asterisk would: wrap-up, reason "missed".
    view = {a.id: a for a in take(f.engine, f.now).agents}["a1"]
    assert (view.state, view.reason) == ("wrap_up", "missed")


def test_answering_resets_the_count_of_misses() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.miss("a1", "c1")
    f.advance(5)
    talk(f, "a1", "c1", 30)
    f.advance(30)
    f.call("c2")
    f.miss("a1", "c2")
    assert f.agent_state("a1") is A.RESTING  # a rest, not a pause


def test_caller_hanging_up_while_ringing_cancels_the_ring_without_a_miss() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.advance(6)
    out = f.hang_up("c1")
    assert cmd.CancelRing(call_id="c1", agent_id="a1") in out
    assert f.agent_state("a1") is A.AVAILABLE
    assert f.outcome("c1") == "abandoned"
    f.call("c2")
    f.miss("a1", "c2")  # had the abandon counted as a miss, this second one would pause a1
    assert f.agent_state("a1") is A.RESTING


def test_break_asked_while_ringing_applies_when_the_caller_gives_up() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.send(ev.AgentPause(agent_id="a1", reason="break"))
    assert f.agent_state("a1") is A.RESERVED
    f.call("c2")
    f.advance(3)
    f.hang_up("c1")
    assert f.agent_state("a1") is A.PAUSED
    assert f.engine.agents["a1"].reason == "break"
    assert f.rung("c2") == []


def test_break_asked_while_ringing_then_auto_paused_needs_one_unpause() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.miss("a1", "c1")
    f.advance(5)
    f.send(ev.AgentPause(agent_id="a1", reason="break"))  # while the second ring sounds
    f.miss("a1", "c1")  # the second miss in a row: paused
    assert f.agent_state("a1") is A.PAUSED
    f.advance(300)
    f.send(ev.AgentUnpause(agent_id="a1"))  # back from the break
    assert f.rung("c1") == ["a1", "a1", "a1"]


def test_logout_asked_while_ringing_applies_when_the_caller_gives_up() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.send(ev.AgentLogout(agent_id="a1"))
    f.hang_up("c1")
    assert f.agent_state("a1") is A.LOGGED_OUT


# ---------------------------------------------------------------- worker protection


def test_abusive_caller_hears_the_warning_then_is_disconnected() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.advance(40)
    out = f.send(ev.AgentFlaggedAbusive(agent_id="a1", call_id="c1"))
    assert cmd.HangupAgent(call_id="c1", agent_id="a1") in out
    assert f.heard("c1")[-1] == "sound:abuse-warning"
    assert not f.commands(cmd.HangupCaller, "c1")
    f.advance(2)  # the warning has been played
    assert f.commands(cmd.HangupCaller, "c1")
    assert f.outcome("c1") == "answered"
    assert f.queue("gen").answered == 1
    assert f.queue("gen").abandoned == 0


def test_abusive_call_gives_a_cool_down_that_ready_cannot_skip() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.send(ev.AgentFlaggedAbusive(agent_id="a1", call_id="c1"))
    f.call("c2")
    f.advance(35)
    f.send(ev.AgentReady(agent_id="a1"))
    assert f.agent_state("a1") is A.COOLING_DOWN
    assert f.rung("c2") == []
    f.advance(114.9)  # wrap-up 30 s + cool-down 120 s
    assert f.rung("c2") == []
    f.advance(0.1)
    assert f.rung("c2") == ["a1"]


def test_cool_down_is_protection_time_not_handling_time() -> None:
    """AHT and occupancy count the after-call work of an abusive call, not the
    cool-down that follows it (a supervisor reading AHT must not see it inflated)."""
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.advance(60)
    f.send(ev.AgentFlaggedAbusive(agent_id="a1", call_id="c1"))
    f.advance(30 + 120)  # after-call work, then the cool-down
    assert f.agent_state("a1") is A.AVAILABLE
    gen = f.queue("gen")
    assert gen.handled == 1
    assert gen.aht_seconds == 60 + 30
    floor = f.engine.metrics.pools["floor"]
    assert floor.handling_seconds == 60 + 30


def test_pre_connect_plays_while_the_agent_rings_and_bridges_after_both() -> None:
    f = Floor(PROTECTED)
    f.login("a1")
    f.call("c1")
    assert f.rung("c1") == ["a1"]
    assert f.heard("c1") == ["sound:we-protect-our-staff"]
    f.advance(1)
    f.answer("a1", "c1")  # the agent is quick; the announcement is not over
    assert connects(f, "c1") == []
    assert f.agent_state("a1") is A.ON_CALL
    f.advance(0.9)
    assert connects(f, "c1") == []
    f.advance(0.1)  # the announcement ends: bridge now
    assert connects(f, "c1") == ["a1"]
    assert f.outcome("c1") == "answered"


def test_pre_connect_finished_first_bridges_when_the_agent_answers() -> None:
    f = Floor(PROTECTED)
    f.login("a1")
    f.call("c1")
    f.advance(6)
    assert connects(f, "c1") == []
    f.answer("a1", "c1")
    assert connects(f, "c1") == ["a1"]
    assert f.commands(cmd.CallOutcome, "c1")[0].wait_seconds == 6


def test_agent_hanging_up_before_the_bridge_puts_the_call_back_in_its_place() -> None:
    f = Floor(PROTECTED)
    f.login("a1")
    f.call("first")
    f.advance(1)
    f.call("second")
    f.answer("a1", "first")
    f.advance(0.5)
    f.agent_hangs_up("a1", "first")  # before the announcement ended
    f.advance(1)
    assert connects(f, "first") == []
    assert f.outcome("first") is None
    f.login("a2")
    assert f.rung("first") == ["a1", "a2"]
    assert f.rung("second") == []
    f.answer("a2", "first")  # the caller heard the announcement already
    assert connects(f, "first") == ["a2"]
    assert f.heard("first").count("sound:we-protect-our-staff") == 1
