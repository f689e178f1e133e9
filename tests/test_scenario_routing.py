"""Who takes which call: the queue strategies, multi-skill agents across queues,
priority and first-come first-served, relaxation over time, full queues, and a
supervisor changing skills and pools mid-shift.

Callers press a key in a silent menu: 1 general, 2 general urgent (priority 5),
3 tax, 4 the high-weight COVID queue. Wrap-up is 1 s throughout, so an agent who
hangs up is available again a second later.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.states import AgentState
from tests.harness import Floor

A = AgentState

SITE = """
site: {name: routing, utc_offset: "+09:00"}
skills: {gen: {}, tax: {}, covid: {}}
pools: {floor: {kind: in_house}, remote: {kind: remote}}
queues:
  gen: {skill: gen, pools: [floor], strategy: longest_idle, wrap_up_seconds: 1}
  tax: {skill: tax, pools: [floor], wrap_up_seconds: 1}
  covid: {skill: covid, pools: [floor], weight: 10, wrap_up_seconds: 1}
ivr:
  entry: menu
  nodes:
    menu:
      kind: menu
      prompt: []
      options:
        "1": {queue: gen}
        "2": {queue: gen, priority: 5}
        "3": {queue: tax}
        "4": {queue: covid}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 2}]}
  - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: gen, level: 5}]}
  - {id: a3, endpoint: PJSIP/a3, pool: floor, skills: [{skill: gen, level: 5}]}
  # Never logged in here; `acd check` wants someone able to answer every queue.
  - id: s1
    endpoint: PJSIP/s1
    pool: floor
    skills: [{skill: tax, level: 1}, {skill: covid, level: 1}]
"""

MULTI = """
site: {name: multi, utc_offset: "+09:00"}
skills: {gen: {}, tax: {}, covid: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 1}
  tax: {skill: tax, pools: [floor], wrap_up_seconds: 1}
  covid: {skill: covid, pools: [floor], weight: 10, wrap_up_seconds: 1}
ivr:
  entry: menu
  nodes:
    menu:
      kind: menu
      prompt: []
      options:
        "1": {queue: gen}
        "2": {queue: gen, priority: 5}
        "3": {queue: tax}
        "4": {queue: covid}
        "5": {queue: tax, priority: 5}
agents:
  - id: m1
    endpoint: PJSIP/m1
    pool: floor
    skills: [{skill: gen, level: 3}, {skill: tax, level: 3}, {skill: covid, level: 3}]
  - {id: t1, endpoint: PJSIP/t1, pool: floor, skills: [{skill: tax, level: 3}]}
"""

RELAX = """
site: {name: relax, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}, remote: {kind: remote}}
queues:
  gen:
    skill: gen
    pools: [floor]
    min_level: 4
    wrap_up_seconds: 1
    relax:
      - {after_seconds: 30, min_level: 2}
      - {after_seconds: 60, pools: [remote]}
    max_waiting: 2
    full_prompt: ["sound:queue-full"]
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: expert, endpoint: PJSIP/expert, pool: floor, skills: [{skill: gen, level: 5}]}
  - {id: junior, endpoint: PJSIP/junior, pool: floor, skills: [{skill: gen, level: 2}]}
  - {id: novice, endpoint: PJSIP/novice, pool: floor, skills: [{skill: gen, level: 1}]}
  - {id: home, endpoint: PJSIP/home, pool: remote, skills: [{skill: gen, level: 5}]}
"""


def with_strategy(strategy: str) -> str:
    return SITE.replace("strategy: longest_idle", f"strategy: {strategy}")


def join(f: Floor, call_id: str, digit: str = "1") -> None:
    f.call(call_id)
    f.press(call_id, digit)


def serve(f: Floor, agent: str, call_id: str, talk: float = 10) -> None:
    """The agent answers, talks, hangs up and finishes the 1 s wrap-up."""
    f.answer(agent, call_id)
    f.advance(talk)
    f.agent_hangs_up(agent, call_id)
    f.advance(1)


def rung_now(out: list[cmd.Command]) -> list[tuple[str, str]]:
    return [(r.agent_id, r.call_id) for r in out if isinstance(r, cmd.RingAgent)]


# ---------------------------------------------------------------- strategies


def test_longest_idle_rings_the_agent_idle_longest() -> None:
    f = Floor(with_strategy("longest_idle"))
    f.login("a3")
    f.advance(10)
    f.login("a1")
    f.advance(10)
    f.login("a2")
    f.advance(10)
    join(f, "c1")
    serve(f, "a3", "c1")  # a3 was idle longest; now it has just finished
    f.advance(10)
    join(f, "c2")
    join(f, "c3")
    join(f, "c4")
    assert f.rung() == ["a3", "a1", "a2", "a3"]


def test_skill_level_rings_the_highest_level_then_the_longest_idle() -> None:
    f = Floor(with_strategy("skill_level"))
    f.login("a1")  # level 2, idle longest
    f.advance(10)
    f.login("a3")  # level 5
    f.advance(10)
    f.login("a2")  # level 5, idle shortest
    f.advance(10)
    join(f, "c1")
    join(f, "c2")
    join(f, "c3")
    assert f.rung() == ["a3", "a2", "a1"]


def test_least_occupied_rings_the_agent_with_the_least_handling_time() -> None:
    f = Floor(with_strategy("least_occupied"))
    f.login("a2", "a3")
    join(f, "long")
    assert f.rung("long") == ["a2"]
    serve(f, "a2", "long", talk=300)  # a2 free again at 301 s, after a long call
    f.advance(50)
    join(f, "short")
    assert f.rung("short") == ["a3"]
    serve(f, "a3", "short", talk=20)  # a3 free at 372 s: idle less long than a2
    f.advance(10)
    join(f, "next")
    assert f.rung("next") == ["a3"]  # longest_idle would ring a2


def test_round_robin_takes_turns_in_roster_order() -> None:
    f = Floor(with_strategy("round_robin"))
    f.login("a3")  # logged in first: longest_idle would start with a3
    f.advance(10)
    f.login("a2")
    f.advance(10)
    f.login("a1")
    for n in range(4):
        join(f, f"c{n}")
        agent = f.rung(f"c{n}")[0]
        serve(f, agent, f"c{n}")
    assert f.rung() == ["a1", "a2", "a3", "a1"]


def test_random_strategy_is_repeatable_with_a_seed_and_varies_across_seeds() -> None:
    def first_rung(seed: int) -> list[str]:
        f = Floor(with_strategy("random"), seed=seed)
        f.login("a1", "a2", "a3")
        for n in range(3):
            join(f, f"c{n}")
        return f.rung()

    runs = {seed: first_rung(seed) for seed in range(8)}
    assert all(sorted(r) == ["a1", "a2", "a3"] for r in runs.values())
    assert first_rung(3) == runs[3]
    assert len({tuple(r) for r in runs.values()}) > 1


# ---------------------------------------------------------------- order of service


def test_multi_skill_agent_takes_the_highest_weight_queue_first() -> None:
    f = Floor(MULTI)
    join(f, "gen_caller", "1")
    f.advance(30)
    join(f, "covid_caller", "4")  # later, but the COVID queue weighs more
    f.login("m1")
    assert f.rung() == ["m1"]
    assert f.rung("covid_caller") == ["m1"]


def test_multi_skill_agent_across_equal_weights_takes_priority_then_arrival() -> None:
    f = Floor(MULTI)
    join(f, "gen_early", "1")
    f.advance(5)
    join(f, "tax_late", "3")
    f.advance(5)
    join(f, "gen_urgent", "2")
    f.login("m1")
    for _ in range(3):
        call_id = f.commands(cmd.RingAgent)[-1].call_id
        serve(f, "m1", call_id)
    assert [r.call_id for r in f.commands(cmd.RingAgent)] == ["gen_urgent", "gen_early", "tax_late"]


def test_single_skill_agent_is_not_offered_other_queues() -> None:
    f = Floor(MULTI)
    join(f, "covid_caller", "4")
    join(f, "tax_caller", "3")
    f.login("t1")
    assert f.rung() == ["t1"]
    assert f.rung("tax_caller") == ["t1"]


def test_priority_beats_arrival_and_fifo_holds_within_a_priority() -> None:
    f = Floor(SITE)
    for n, digit in enumerate("1122"):
        join(f, f"c{n}", digit)
        f.advance(1)
    f.login("a1")
    served = []
    for _ in range(4):
        call_id = f.commands(cmd.RingAgent)[-1].call_id
        served.append(call_id)
        serve(f, "a1", call_id)
    assert served == ["c2", "c3", "c0", "c1"]


# ---------------------------------------------------------------- relaxation and capacity


def test_lower_level_agent_becomes_eligible_at_the_relax_step_not_before() -> None:
    f = Floor(RELAX)
    f.login("junior", "novice")
    f.call("c1")
    out = f.advance(29.9)
    assert rung_now(out) == []
    out = f.advance(0.1)
    assert rung_now(out) == [("junior", "c1")]  # level 2 admitted; level 1 never


def test_remote_pool_becomes_eligible_at_its_step() -> None:
    f = Floor(RELAX)
    f.login("home")
    f.call("c1")
    assert f.advance(59.9) == []
    assert rung_now(f.advance(0.1)) == [("home", "c1")]


def test_relaxed_agent_who_frees_up_takes_a_caller_past_the_step() -> None:
    f = Floor(RELAX)
    f.login("junior")
    f.call("old")  # will pass the 30 s step
    f.advance(35)
    assert f.rung("old") == ["junior"]
    f.call("new")
    serve(f, "junior", "old")  # junior is free at 46 s; "new" waited 11 s only
    assert f.rung("new") == []
    f.advance(18.9)
    assert f.rung("new") == []
    f.advance(0.1)  # "new" reaches the step at 65 s
    assert f.rung("new") == ["junior"]


def test_expert_is_rung_at_once_with_no_relaxation_needed() -> None:
    f = Floor(RELAX)
    f.login("junior", "expert")
    f.call("c1")
    assert f.rung("c1") == ["expert"]


def test_full_queue_blocks_the_next_caller_with_the_full_prompt() -> None:
    f = Floor(RELAX)
    f.call("c1")
    f.call("c2")
    f.call("c3")
    assert f.heard("c3") == ["sound:queue-full"]
    assert not f.commands(cmd.Hold, "c3")
    f.advance(2)
    assert f.commands(cmd.HangupCaller, "c3")
    assert f.outcome("c3") == "blocked"
    assert f.queue("gen").blocked == 1
    f.login("expert")
    assert f.rung() == ["expert"]
    f.hang_up("c2")
    f.call("c4")  # room again
    assert f.outcome("c4") is None
    assert f.commands(cmd.Hold, "c4")


# ---------------------------------------------------------------- supervisor changes


def test_granting_a_skill_takes_effect_for_the_next_call() -> None:
    f = Floor(SITE)
    f.login("a1")
    join(f, "tax_caller", "3")
    assert f.rung() == []
    out = f.send(ev.SetAgentSkill(agent_id="a1", skill="tax", level=3))
    assert rung_now(out) == [("a1", "tax_caller")]


def test_withdrawing_a_skill_mid_call_leaves_the_call_alone() -> None:
    f = Floor(SITE)
    f.login("a1")
    join(f, "c1")
    f.answer("a1", "c1")
    f.send(ev.SetAgentSkill(agent_id="a1", skill="gen", level=None))
    join(f, "c2")
    f.advance(5)
    assert f.agent_state("a1") is A.ON_CALL
    f.agent_hangs_up("a1", "c1")
    f.advance(60)
    assert f.agent_state("a1") is A.AVAILABLE
    assert f.rung("c2") == []


def test_raising_a_level_changes_who_skill_level_routing_prefers() -> None:
    f = Floor(with_strategy("skill_level"))
    f.login("a1", "a2")
    f.send(ev.SetAgentSkill(agent_id="a1", skill="gen", level=5))
    f.send(ev.SetAgentSkill(agent_id="a2", skill="gen", level=1))
    join(f, "c1")
    assert f.rung("c1") == ["a1"]


def test_moving_an_agent_to_another_pool_changes_which_queues_ring_them() -> None:
    f = Floor(RELAX)
    f.login("expert")
    f.send(ev.MoveAgent(agent_id="expert", pool="remote"))
    f.call("c1")
    f.advance(59)
    assert f.rung("c1") == []  # the remote pool is admitted only from 60 s
    f.advance(1)
    assert f.rung("c1") == ["expert"]
