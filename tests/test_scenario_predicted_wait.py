"""Routing on each caller's predicted wait (`Queue.predicted_wait`), as a supervisor
sees it: a caller likely to give up before the fixed seconds widen the call's reach
is offered at once to the agents the last relaxation step admits, and to the
vendors of the overflow rules whose bounds hold, instead of hanging up while that
capacity sits idle. Without it, or before any caller has given up, the fixed seconds
alone decide.

The general queue is served by the floor pool at level 3; after 150 s its last step
admits the short-term pool at level 1; the vendor takes callers who waited 120 s in
surge stage 2. One floor agent is on a long call, one short-term hire is idle.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from tests.harness import Floor, local_start

SITE = """
site: {name: predicted, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}, shortterm: {kind: in_house}}
vendors:
  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 5}
queues:
  gen:
    skill: gen
    pools: [floor]
    min_level: 3
    wrap_up_seconds: 1
    relax:
      - {after_seconds: 150, min_level: 1, pools: [shortterm]}
    overflow:
      - {vendors: [va], when: {waited_over_seconds: 120, stage_at_least: 2}}
    PREDICTED
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
surge:
  stages:
    - {stage: 1, enter_at_calls_per_day: 60000}
    - {stage: 2, enter_at_calls_per_day: 80000}
agents:
  - {id: senior, endpoint: PJSIP/senior, pool: floor, skills: [{skill: gen, level: 5}]}
  - {id: hire, endpoint: PJSIP/hire, pool: shortterm, skills: [{skill: gen, level: 1}]}
"""

MONDAY_10 = local_start(0, 10)


def floor(predicted: str) -> Floor:
    """The senior agent busy on a long call, the hire logged in and idle."""
    f = Floor(SITE.replace("PREDICTED", predicted), start=MONDAY_10)
    f.login("senior")
    f.call("talking")
    f.answer("senior", "talking")
    f.login("hire")
    return f


def one_caller_gave_up_after(f: Floor, seconds: float) -> None:
    """A caller waits `seconds` and hangs up: the queue's callers have shown a
    patience of `seconds` (their time waited over those who gave up)."""
    f.call("impatient")
    f.advance(seconds)
    f.hang_up("impatient")


def test_a_caller_predicted_to_give_up_is_offered_to_the_idle_hire_at_once() -> None:
    f = floor("predicted_wait: {share_of_patience: 0.5}")
    one_caller_gave_up_after(f, 40)  # not 150 s: the hire was never offered it
    assert f.rung() == ["senior"]
    f.call("next")  # behind nobody, but the only agent admitted is busy
    assert f.rung("next") == ["hire"]


def test_without_it_the_hire_waits_for_the_fixed_seconds() -> None:
    f = floor("")
    one_caller_gave_up_after(f, 40)
    f.call("next")
    f.advance(149)
    assert f.rung("next") == []
    f.advance(1)
    assert f.rung("next") == ["hire"]


def test_before_anyone_gave_up_nothing_changes() -> None:
    f = floor("predicted_wait: {share_of_patience: 0.5}")
    f.call("next")
    f.advance(149)
    assert f.rung("next") == []
    f.advance(1)
    assert f.rung("next") == ["hire"]


def test_a_short_predicted_wait_keeps_the_skill_rules() -> None:
    # One caller gave up after 40 s, and the senior agent's calls last 20 s on
    # average: a caller first in line expects 20 s, under 0.9 x 40 s.
    f = floor("predicted_wait: {share_of_patience: 0.9}")
    f.agent_hangs_up("senior", "talking")
    f.advance(20)
    f.call("short")
    f.answer("senior", "short")
    f.advance(20)
    f.agent_hangs_up("senior", "short")
    f.call("talking2")
    f.answer("senior", "talking2")
    one_caller_gave_up_after(f, 40)
    f.call("next")
    assert f.rung("next") == []  # the senior agent will do: no hire yet


def test_the_vendor_takes_a_caller_predicted_to_give_up_within_the_surge_stage_only() -> None:
    f = floor("predicted_wait: {share_of_patience: 0.5, relax: false}")
    one_caller_gave_up_after(f, 40)
    f.send(ev.SetSurgeStage(stage=1))
    f.call("in-stage-1")
    assert f.commands(cmd.DialVendor) == []  # the rule's bound: stage 2 only
    f.send(ev.SetSurgeStage(stage=2))  # the waiting caller now qualifies by the rule
    f.call("in-stage-2")
    assert [d.call_id for d in f.commands(cmd.DialVendor)] == ["in-stage-1", "in-stage-2"]
    assert f.rung("in-stage-2") == []  # relax: false, the hire is not offered it
