"""What a telephone network really delivers: events for calls and agents the engine
does not know, duplicates, late answers, garbage digits, a clock that steps back.
None of it may raise; each is counted in `engine.anomalies`; and the floor keeps
working: the next caller is still answered.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.engine import commands as cmd
from acd.engine import events as ev
from tests.harness import Floor

SITE = """
site: {name: robust, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
vendors:
  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 1}
queues:
  gen:
    skill: gen
    pools: [floor]
    wrap_up_seconds: 5
    ring_timeout_seconds: 10
    pre_connect: ["sound:protect"]
    callback: {when_expected_wait_over_seconds: 300}
    overflow: [{vendors: [va], when: {waited_over_seconds: 40}}]
ivr:
  entry: main
  nodes:
    main: {kind: menu, prompt: ["sound:main"], options: {"1": {queue: gen}}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: gen, level: 3}]}
"""


def anomalies(f: Floor) -> int:
    return sum(f.engine.anomalies.values())


def still_works(f: Floor, call_id: str = "next") -> None:
    """A fresh caller presses 1 and an available agent answers: connected."""
    f.login("a1")  # harmless if already logged in (counted as an anomaly)
    f.call(call_id)
    f.press(call_id, "1")
    agents = f.rung(call_id)
    assert agents, f"{call_id} rang nobody"
    f.answer(agents[-1], call_id)
    f.advance(2)
    assert f.outcome(call_id) == "answered"


def test_events_for_unknown_calls_are_counted_and_ignored() -> None:
    f = Floor(SITE)
    f.login("a1")
    for event in (
        ev.DigitPressed(call_id="ghost", digit="1"),
        ev.AgentAnswered(agent_id="a1", call_id="ghost"),
        ev.AgentMissed(agent_id="a1", call_id="ghost"),
        ev.AgentHungUp(agent_id="a1", call_id="ghost"),
        ev.VendorAnswered(call_id="ghost"),
        ev.CallbackAnswered(call_id="ghost"),
        ev.CallerHungUp(call_id="ghost"),
    ):
        before = anomalies(f)
        assert f.send(event) == []
        assert anomalies(f) == before + 1, type(event).__name__
    still_works(f)


def test_events_for_unknown_agents_are_counted_and_ignored() -> None:
    f = Floor(SITE)
    f.call("c1")
    f.press("c1", "1")
    for event in (
        ev.AgentLogin(agent_id="nobody"),
        ev.AgentPause(agent_id="nobody"),
        ev.AgentAnswered(agent_id="nobody", call_id="c1"),
        ev.SetAgentSkill(agent_id="nobody", skill="gen", level=3),
        ev.MoveAgent(agent_id="nobody", pool="floor"),
    ):
        before = anomalies(f)
        assert f.send(event) == []
        assert anomalies(f) == before + 1, type(event).__name__
    f.login("a1")
    assert f.rung("c1") == ["a1"]  # the waiting caller is unharmed
    f.answer("a1", "c1")
    f.advance(2)
    assert f.outcome("c1") == "answered"


def test_a_second_hang_up_is_counted_once_and_changes_nothing() -> None:
    f = Floor(SITE)
    f.call("c1")
    f.press("c1", "1")
    f.advance(30)
    f.hang_up("c1")
    assert f.outcome("c1") == "abandoned"
    assert anomalies(f) == 0
    assert f.hang_up("c1") == []
    assert anomalies(f) == 1
    assert f.queue("gen").abandoned == 1
    still_works(f)


def test_the_line_going_down_after_the_engine_hung_up_is_no_anomaly() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.press("c1", "1")
    f.answer("a1", "c1")
    f.advance(30)
    assert cmd.HangupCaller(call_id="c1") in f.agent_hangs_up("a1", "c1")
    f.hang_up("c1")  # the PBX reports the caller's channel gone, as it will
    assert anomalies(f) == 0
    f.hang_up("c1")  # ... but only once
    assert anomalies(f) == 1


def test_an_answer_after_the_ring_timed_out_is_a_late_answer() -> None:
    f = Floor(SITE)
    f.login("a1", "a2")
    f.call("c1")
    f.press("c1", "1")
    f.advance(10)  # a1 rang out; a2 is ringing now
    assert f.rung("c1") == ["a1", "a2"]
    assert f.answer("a1", "c1") == []
    assert f.engine.anomalies == {"late agent answer": 1}
    f.answer("a2", "c1")
    f.advance(2)
    assert f.commands(cmd.Connect, "c1") == [cmd.Connect(call_id="c1", agent_id="a2")]


def test_malformed_digits_are_counted_and_the_menu_goes_on() -> None:
    f = Floor(SITE)
    f.call("c1")
    f.advance(2)
    for digit in ("", "12", "x", "A", " "):
        assert f.press("c1", digit) == []
    assert f.engine.anomalies == {"malformed digit": 5}
    assert f.heard("c1") == ["sound:main"]  # not taken as wrong keys either
    f.press("c1", "1")
    assert f.commands(cmd.Hold, "c1")


def test_time_going_backwards_is_taken_as_no_time_passing() -> None:
    f = Floor(SITE)
    f.login("a1", "a2")
    f.call("c1")
    f.press("c1", "1")
    assert f.rung("c1") == ["a1"]
    f.advance(5)
    f.now -= 60  # the driver's clock steps back a minute
    f.send(ev.TimerFired())
    assert f.engine.anomalies == {"clock went backwards": 1}
    assert f.rung("c1") == ["a1"]  # no timer fired early or twice
    f.now += 60
    f.advance(5)  # the ring timeout at 10 s still comes
    assert f.rung("c1") == ["a1", "a2"]
    f.answer("a2", "c1")
    f.advance(2)
    assert f.outcome("c1") == "answered"


def test_duplicate_arrival_and_logins_do_not_disturb_live_calls() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.press("c1", "1")
    f.login("a1")
    f.call("c1")
    assert f.engine.anomalies == {"login while logged in": 1, "duplicate call id": 1}
    f.answer("a1", "c1")
    f.advance(2)
    assert f.outcome("c1") == "answered"


_CALLS = ["c1", "c2", "c3"]
_AGENTS = ["a1", "a2", "ghost"]

_events = st.one_of(
    st.builds(ev.CallArrived, call_id=st.sampled_from(_CALLS), caller=st.just("0101")),
    st.builds(ev.DigitPressed, call_id=st.sampled_from(_CALLS), digit=st.sampled_from("1#*9x")),
    st.builds(ev.CallerHungUp, call_id=st.sampled_from(_CALLS)),
    st.builds(ev.AgentLogin, agent_id=st.sampled_from(_AGENTS)),
    st.builds(ev.AgentLogout, agent_id=st.sampled_from(_AGENTS)),
    st.builds(ev.AgentPause, agent_id=st.sampled_from(_AGENTS)),
    st.builds(ev.AgentUnpause, agent_id=st.sampled_from(_AGENTS)),
    st.builds(ev.AgentReady, agent_id=st.sampled_from(_AGENTS)),
    st.builds(ev.AgentAnswered, agent_id=st.sampled_from(_AGENTS), call_id=st.sampled_from(_CALLS)),
    st.builds(ev.AgentMissed, agent_id=st.sampled_from(_AGENTS), call_id=st.sampled_from(_CALLS)),
    st.builds(ev.AgentHungUp, agent_id=st.sampled_from(_AGENTS), call_id=st.sampled_from(_CALLS)),
    st.builds(
        ev.AgentFlaggedAbusive, agent_id=st.sampled_from(_AGENTS), call_id=st.sampled_from(_CALLS)
    ),
    st.builds(ev.VendorAnswered, call_id=st.sampled_from(_CALLS)),
    st.builds(ev.VendorFailed, call_id=st.sampled_from(_CALLS)),
    st.builds(ev.VendorHungUp, call_id=st.sampled_from(_CALLS)),
    st.builds(ev.CallbackAnswered, call_id=st.sampled_from(_CALLS)),
    st.builds(ev.CallbackFailed, call_id=st.sampled_from(_CALLS)),
)


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0, 3.0, 12.0, 45.0]), _events), max_size=40))
def test_any_sequence_of_events_leaves_a_working_floor(steps: list[tuple[float, ev.Event]]) -> None:
    f = Floor(SITE)
    arrived: set[str] = set()
    for delay, event in steps:
        if isinstance(event, ev.CallArrived):
            if event.call_id in arrived:
                continue  # channel ids are never reused
            arrived.add(event.call_id)
        f.advance(delay)
        f.send(event)
    f.advance(600)
    for call_id in _CALLS:
        f.outcome(call_id)  # at most one outcome per call (the harness asserts it)
    for agent_id in ("a1", "a2"):
        f.send(ev.AgentLogout(agent_id=agent_id))
    f.advance(600)
    still_works(f, "after")
