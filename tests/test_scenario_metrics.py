"""The wallboard's figures, worked out by hand from each scenario's own timeline:
offered (less short abandons), answer rate, service level in both conventions, ASA,
AHT, occupancy per pool, the 15-minute interval a call counts in, longest wait.

Short abandons are calls that hang up within 5 s of joining; the service-level
threshold T is 20 s; wrap-up is 10 s. Callers join the queue as soon as they call.
"""

from __future__ import annotations

import pytest

from acd.engine import events as ev
from tests.harness import Floor, local_start

SITE = """
site:
  name: metrics
  utc_offset: "+09:00"
  short_abandon_seconds: 5
  service_level_seconds: 20
skills: {gen: {}}
pools: {floor: {kind: in_house}, remote: {kind: remote}}
queues:
  gen: {skill: gen, pools: [floor, remote], wrap_up_seconds: 10}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: r1, endpoint: PJSIP/r1, pool: remote, skills: [{skill: gen, level: 3}]}
"""


def at(f: Floor, t: float, start: float) -> None:
    """Let time run to `t` seconds after the scenario's start."""
    f.advance(start + t - f.now)


def morning(f: Floor) -> float:
    """The shared timeline (seconds from the start), one agent, a1:

    t=0   c1 joins            t=10  a1 logs in, rung for c1; answers at 12 (waited 12)
    t=1   c2 joins, gone at 3 (a short abandon: 2 s)
    t=2   c3 joins, gone at 15 (abandoned after 13 s: within T)
    t=4   c4 joins, gone at 40 (abandoned after 36 s: after T)
    t=5   c5 joins, waits for a1
    t=72  a1 hangs up c1 (talk 60), wraps up to 82, is rung for c5, answers at 84
          (waited 79); talks 30 s to 114, wraps up to 124; logs out at 200.
    """
    start = f.now
    f.call("c1")
    at(f, 1, start)
    f.call("c2")
    at(f, 2, start)
    f.call("c3")
    at(f, 3, start)
    f.hang_up("c2")
    at(f, 4, start)
    f.call("c4")
    at(f, 5, start)
    f.call("c5")
    at(f, 10, start)
    f.login("a1")
    at(f, 12, start)
    f.answer("a1", "c1")
    at(f, 15, start)
    f.hang_up("c3")
    at(f, 40, start)
    f.hang_up("c4")
    at(f, 72, start)
    f.agent_hangs_up("a1", "c1")
    at(f, 84, start)
    assert f.rung("c5") == ["a1"]
    f.answer("a1", "c5")
    at(f, 114, start)
    f.agent_hangs_up("a1", "c5")
    at(f, 200, start)
    f.send(ev.AgentLogout(agent_id="a1"))
    return start


def test_offered_excludes_short_abandons_and_answer_rate_follows() -> None:
    f = Floor(SITE)
    morning(f)
    q = f.queue("gen")
    assert (q.joined, q.short_abandoned, q.offered) == (5, 1, 4)
    assert (q.answered, q.abandoned) == (2, 2)
    assert q.answer_rate == pytest.approx(2 / 4)
    assert [f.outcome(c) for c in ("c1", "c2", "c3", "c4", "c5")] == [
        "answered",
        "short_abandoned",
        "abandoned",
        "abandoned",
        "answered",
    ]


def test_service_level_in_both_conventions() -> None:
    f = Floor(SITE)
    morning(f)
    q = f.queue("gen")
    # Within T: c1 (12 s). Answered: c1, c5. Abandoned after T: c4 (36 s); c3 (13 s) is not.
    assert q.service_level == pytest.approx(1 / (2 + 1))
    assert q.service_level_asterisk == pytest.approx(1 / 2)


def test_asa_aht_and_longest_wait() -> None:
    f = Floor(SITE)
    morning(f)
    q = f.queue("gen")
    assert q.asa_seconds == pytest.approx((12 + 79) / 2)
    assert q.aht_seconds == pytest.approx(((60 + 10) + (30 + 10)) / 2)
    assert q.longest_wait_seconds == pytest.approx(79)


def test_occupancy_of_the_pool() -> None:
    f = Floor(SITE)
    morning(f)
    # a1 handled (ringing, talking, wrap-up) 10-82 and 82-124: 114 s; available 124-200: 76 s.
    assert f.engine.metrics.pools["floor"].occupancy == pytest.approx(114 / (114 + 76))
    assert f.engine.metrics.pools["remote"].occupancy is None  # nobody worked there


def test_summary_shows_the_same_figures_to_the_wallboard() -> None:
    f = Floor(SITE)
    morning(f)
    summary = f.queue("gen").summary()
    assert summary["offered"] == 4
    assert summary["answer_rate"] == pytest.approx(0.5)
    assert summary["asa_seconds"] == pytest.approx(45.5)
    assert summary["aht_seconds"] == pytest.approx(55)


def test_abandon_exactly_at_the_short_abandon_threshold_is_offered() -> None:
    f = Floor(SITE)
    f.call("c1")
    f.advance(4.9)
    f.hang_up("c1")
    f.call("c2")
    f.advance(5)
    f.hang_up("c2")
    assert [f.outcome("c1"), f.outcome("c2")] == ["short_abandoned", "abandoned"]
    assert f.queue("gen").offered == 1


def test_answer_at_exactly_t_is_within_the_service_level() -> None:
    f = Floor(SITE)
    f.call("c1")
    f.call("c2")
    f.advance(20)
    f.login("a1", "r1")
    f.answer("a1", "c1")  # waited 20 s: within T
    f.advance(0.5)
    f.answer("r1", "c2")  # waited 20.5 s
    q = f.queue("gen")
    assert q.answered_within_sl == 1
    assert q.service_level == pytest.approx(1 / 2)


def test_a_call_counts_in_the_interval_it_joined() -> None:
    start = local_start(0, 14, 59)
    f = Floor(SITE, start=start)
    f.call("c1")  # 14:59:00, interval 14:45
    f.advance(80)
    f.login("a1")  # 15:00:20
    f.answer("a1", "c1")
    f.call("c2")  # 15:00:20, interval 15:00: abandoned after 30 s
    f.advance(30)
    f.hang_up("c2")
    m = f.engine.metrics
    before, after = f.engine.interval_of(start), f.engine.interval_of(start + 60)
    assert after == before + 1
    early, late = m.intervals[before], m.intervals[after]
    assert early.start == local_start(0, 14, 45)
    assert (early.arrived, late.arrived) == (1, 1)
    assert (early.queues["gen"].answered, early.queues["gen"].abandoned) == (1, 0)
    assert (late.queues["gen"].answered, late.queues["gen"].abandoned) == (0, 1)
    assert early.queues["gen"].asa_seconds == pytest.approx(80)


def test_agent_time_is_split_at_the_interval_boundary() -> None:
    start = local_start(0, 14, 55)
    f = Floor(SITE, start=start)
    f.login("a1")
    f.advance(10 * 60)  # available 14:55-15:05
    f.send(ev.AgentLogout(agent_id="a1"))
    m = f.engine.metrics
    first, second = f.engine.interval_of(start), f.engine.interval_of(start) + 1
    assert m.intervals[first].pools["floor"].available_seconds == pytest.approx(300)
    assert m.intervals[second].pools["floor"].available_seconds == pytest.approx(300)


def test_occupancy_per_pool_compares_a_busy_and_an_idle_pool() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.advance(30)
    f.login("r1")  # a1 is idle longer, so takes the call
    f.call("c1")
    f.answer("a1", "c1")
    f.advance(50)
    f.agent_hangs_up("a1", "c1")
    f.advance(10 + 20)  # wrap-up, then 20 s available
    f.send(ev.AgentLogout(agent_id="a1"))
    f.send(ev.AgentLogout(agent_id="r1"))
    pools = f.engine.metrics.pools
    # a1: available 30, handling 50 + 10, available 20. r1: available 90.
    assert pools["floor"].occupancy == pytest.approx(60 / (60 + 50))
    assert pools["remote"].occupancy == pytest.approx(0.0)
    assert pools["floor"].handled == 1


def test_break_taken_during_wrap_up_still_counts_the_call_as_handled() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.advance(40)
    f.agent_hangs_up("a1", "c1")
    f.advance(4)
    f.send(ev.AgentPause(agent_id="a1", reason="break"))  # after 4 s of wrap-up
    q = f.queue("gen")
    assert (q.answered, q.handled) == (1, 1)
    assert q.aht_seconds == pytest.approx(40 + 4)
    assert f.engine.metrics.pools["floor"].handled == 1


def test_talk_time_of_an_abusive_call_counts_for_queue_and_pool_alike() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.advance(25)
    f.send(ev.AgentFlaggedAbusive(agent_id="a1", call_id="c1"))
    assert f.queue("gen").talk_seconds == pytest.approx(25)
    assert f.engine.metrics.pools["floor"].talk_seconds == pytest.approx(25)


def test_a_call_s_talk_and_wrap_up_count_in_the_interval_it_joined() -> None:
    """AHT per interval divides the talk and after-call work of the same calls:
    a call that joins at 10:14 and wraps up at 10:20 counts whole in 10:00-10:15."""
    from tests.harness import local_start

    f = Floor(SITE, start=local_start(1, 10, 14))
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.advance(300)
    f.agent_hangs_up("a1", "c1")
    f.advance(60)
    slots = f.engine.metrics.intervals
    joined = f.engine.interval_of(local_start(1, 10, 14))
    gen = slots[joined].queues["gen"]
    assert (gen.talk_seconds, gen.handled) == (300, 1)
    assert gen.wrap_up_seconds == 10
    assert gen.aht_seconds == 300 + 10
    assert all(slot.total.handled == 0 for index, slot in slots.items() if index != joined)
