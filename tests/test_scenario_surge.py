"""Surge stages as a supervisor watches them: the stage rising with the inbound
rate, the stage announcement, the remote pool growing and shrinking with stages and
social-distancing levels, hysteresis on the way down, a supervisor pinning a stage
and handing it back, and an emergency announcement for chosen queues.

The rate is measured over 10 minutes and scaled to a day: each call in the window
is worth 144 calls a day. Stage 1 starts at 1,440 (10 calls in the window) and
ends below 720 (under 5); stage 2 starts at 2,880 (20 calls). The remote pool has
one seat at distancing level 1, two at level 2, three at 2.5; stage 1 raises it to
two, stage 2 to three. Arrivals that only drive the rate hang up in the menu.
"""

from __future__ import annotations

from acd.engine import events as ev
from acd.engine.states import AgentState
from tests.harness import Floor, local_start

A = AgentState

SITE = """
site: {name: surge, utc_offset: "+09:00", distancing_level: "1"}
skills: {gen: {}}
pools:
  floor: {kind: in_house}
  remote: {kind: remote, size_by_distancing_level: {"1": 1, "2": 2, "2.5": 3}}
queues:
  gen: {skill: gen, pools: [floor, remote], wrap_up_seconds: 5}
  covid: {skill: gen, pools: [floor, remote], wrap_up_seconds: 5}
ivr:
  entry: main
  nodes:
    main: {kind: menu, prompt: ["sound:main"], options: {"1": {queue: gen}, "2": {queue: covid}}}
surge:
  auto: true
  window_minutes: 10
  stages:
    - stage: 1
      enter_at_calls_per_day: 1440
      leave_below_calls_per_day: 720
      pool_sizes: {remote: 2}
      announcement: ["sound:surge-stage-1"]
    - stage: 2
      enter_at_calls_per_day: 2880
      pool_sizes: {remote: 3}
      announcement: ["sound:surge-stage-2"]
agents:
  - {id: r1, endpoint: PJSIP/r1, pool: remote, skills: [{skill: gen, level: 3}]}
  - {id: r2, endpoint: PJSIP/r2, pool: remote, skills: [{skill: gen, level: 3}]}
  - {id: r3, endpoint: PJSIP/r3, pool: remote, skills: [{skill: gen, level: 3}]}
"""

MANUAL = SITE.replace("auto: true", "auto: false")

START = local_start(0, 10)  # a Monday, 10:00 sharp: minute buckets line up with the test


def floor(site: str = SITE) -> Floor:
    f = Floor(site, start=START)
    f.login("r1")
    f.advance(1)
    f.login("r2")
    f.advance(1)
    f.login("r3")
    return f


def passer_by(f: Floor, call_id: str) -> None:
    """A caller who rings the centre and hangs up in the menu: it counts in the rate."""
    f.call(call_id)
    f.hang_up(call_id)


def states(f: Floor) -> list[tuple[AgentState, str]]:
    return [(f.agent_state(a), f.engine.agents[a].reason) for a in ("r1", "r2", "r3")]


IN_SERVICE = (A.AVAILABLE, "")
ON_BREAK = (A.PAUSED, "break")
STANDBY = (A.STANDBY, "")


def nobody_answers(f: Floor) -> None:
    """r1, the one remote agent in service, takes a break: callers wait (a break
    still holds a seat of the pool)."""
    f.send(ev.AgentPause(agent_id="r1", reason="break"))


def test_remote_pool_beyond_its_size_waits_on_standby() -> None:
    f = floor()
    assert states(f) == [IN_SERVICE, STANDBY, STANDBY]
    f.send(ev.AgentUnpause(agent_id="r2"))  # standby is the pool size's, not the agent's
    assert states(f)[1] == STANDBY


def test_inbound_rate_raises_the_stage_and_joiners_hear_its_announcement() -> None:
    f = floor()
    nobody_answers(f)
    f.call("before")
    f.press("before", "1")
    for n in range(8):  # with "before", nine calls in the window: 1,296 a day
        f.advance(30)
        passer_by(f, f"p{n}")
    assert f.engine.surge.stage == 0
    assert states(f) == [ON_BREAK, STANDBY, STANDBY]
    f.advance(30)
    f.call("after")  # the tenth: 1,440 a day
    assert f.engine.surge.stage == 1
    f.press("after", "1")
    assert "sound:surge-stage-1" in f.heard("after")
    assert "sound:surge-stage-1" not in f.heard("before")
    assert states(f)[1] == (A.RESERVED, "")  # the second seat opens and takes "before"
    assert f.rung("before") == ["r2"]
    assert states(f)[2] == STANDBY


def test_faster_arrivals_reach_stage_two_and_its_pool_size() -> None:
    f = floor()
    nobody_answers(f)
    for n in range(19):
        f.advance(10)
        passer_by(f, f"p{n}")
    assert f.engine.surge.stage == 1
    f.advance(10)
    f.call("c1")
    assert f.engine.surge.stage == 2
    f.press("c1", "1")
    assert "sound:surge-stage-2" in f.heard("c1")
    assert "sound:surge-stage-1" not in f.heard("c1")
    assert f.rung("c1") == ["r2"]
    assert states(f)[2] == IN_SERVICE


def test_stage_comes_down_with_hysteresis_when_arrivals_stop() -> None:
    f = Floor(SITE, start=START)
    f.login("r1", "r2")
    for minute in range(10):  # one call a minute, at the start of each minute
        passer_by(f, f"p{minute}")
        if minute < 9:
            f.advance(60)
    assert f.engine.surge.stage == 1  # ten calls in the window
    assert states(f)[:2] == [IN_SERVICE, IN_SERVICE]
    f.advance(60)  # nine left in the window: 1,296 < 1,440, but above 720
    assert f.engine.surge.stage == 1
    f.advance(4 * 60)  # five left: 720 is not below 720
    assert f.engine.surge.stage == 1
    f.advance(59)
    assert f.engine.surge.stage == 1
    f.advance(1)  # four left: 576
    assert f.engine.surge.stage == 0
    assert states(f)[:2] == [IN_SERVICE, STANDBY]  # the later login goes to standby


def test_agent_on_a_call_when_the_pool_shrinks_goes_to_standby_after_wrap_up() -> None:
    f = floor()
    f.send(ev.SetSurgeStage(stage=1))
    f.send(ev.AgentPause(agent_id="r1", reason="break"))
    f.call("c1")
    f.press("c1", "1")
    assert f.rung("c1") == ["r2"]
    f.answer("r2", "c1")
    f.send(ev.SetSurgeStage(stage=0))
    assert f.agent_state("r2") is A.ON_CALL
    f.advance(60)
    f.agent_hangs_up("r2", "c1")
    f.advance(5)
    assert states(f)[1] == STANDBY


def test_supervisor_pins_a_stage_and_hands_it_back() -> None:
    f = floor()
    nobody_answers(f)
    f.send(ev.SetSurgeStage(stage=2))
    assert f.engine.surge.stage == 2
    assert states(f) == [ON_BREAK, IN_SERVICE, IN_SERVICE]
    for n in range(3):  # a quiet floor: the automatic rule would say stage 0
        f.advance(120)
        passer_by(f, f"p{n}")
    assert f.engine.surge.stage == 2
    f.call("c1")
    f.press("c1", "2")
    assert "sound:surge-stage-2" in f.heard("c1")
    f.answer("r2", "c1")
    f.send(ev.SetSurgeStage(stage=None))
    assert f.engine.surge.stage == 0
    assert states(f) == [ON_BREAK, (A.ON_CALL, ""), STANDBY]
    f.call("c2")
    f.press("c2", "2")
    assert not any(m.startswith("sound:surge") for m in f.heard("c2"))


def test_manual_site_keeps_a_pinned_stage_whatever_the_rate() -> None:
    f = floor(MANUAL)
    for n in range(30):
        f.advance(5)
        passer_by(f, f"p{n}")
    assert f.engine.surge.stage == 0  # no automatic stages on this site
    f.send(ev.SetSurgeStage(stage=1))
    assert f.engine.surge.stage == 1
    assert states(f) == [IN_SERVICE, IN_SERVICE, STANDBY]


def test_distancing_level_resizes_the_remote_pool() -> None:
    f = floor(MANUAL)
    f.send(ev.SetDistancingLevel(level="2.5"))
    assert states(f) == [IN_SERVICE, IN_SERVICE, IN_SERVICE]
    f.send(ev.SetDistancingLevel(level="2"))
    assert states(f) == [IN_SERVICE, IN_SERVICE, STANDBY]
    f.send(ev.SetDistancingLevel(level="1"))
    assert states(f) == [IN_SERVICE, STANDBY, STANDBY]


def test_standby_agent_returns_when_an_in_service_agent_logs_out() -> None:
    f = floor(MANUAL)
    f.send(ev.AgentLogout(agent_id="r1"))
    assert f.agent_state("r2") is A.AVAILABLE
    assert f.agent_state("r3") is A.STANDBY


def test_emergency_announcement_is_heard_by_joiners_of_the_named_queues_only() -> None:
    f = floor(MANUAL)
    nobody_answers(f)
    f.send(ev.SetAnnouncement(media=["sound:emergency-covid"], queues=["covid"]))
    f.call("covid_caller")
    f.press("covid_caller", "2")
    f.call("gen_caller")
    f.press("gen_caller", "1")
    assert "sound:emergency-covid" in f.heard("covid_caller")
    assert "sound:emergency-covid" not in f.heard("gen_caller")
    f.send(ev.SetAnnouncement(media=[], queues=[]))
    f.call("later")
    f.press("later", "2")
    assert "sound:emergency-covid" not in f.heard("later")


def test_a_break_that_turns_into_standby_shows_as_standby_from_then_on() -> None:
    """The pool shrinks while its agent is on a break: the wallboard's read model
    hears of the change, and the time in state starts again at the standby."""
    f = floor()
    f.send(ev.SetDistancingLevel(level="2"))
    assert states(f)[:2] == [IN_SERVICE, IN_SERVICE]
    f.advance(60)
    f.send(ev.AgentPause(agent_id="r2", reason="break"))
    f.engine.track_changes()
    f.advance(60)
    f.send(ev.SetDistancingLevel(level="1"))
    assert states(f)[:2] == [IN_SERVICE, STANDBY]
    _calls, agents = f.engine.drain_changes()
    assert "r2" in agents
    assert f.engine.agents["r2"].state_since == f.now
