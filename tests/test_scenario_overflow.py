"""Overflow to an outsourced vendor, as the supervisor and the caller notice it: who
is sent to the vendor's trunk and when, the contract's caps and hours, a vendor that
is busy, and our own agents still coming first when they free up.

The vendor `va` takes one call at a time, at most three an hour, from 09:00 to 18:00.
Each test plugs its own overflow rule into the general queue. Callers join the
queue as soon as they call; the floor starts on a Monday at 10:00.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.persist import export_state
from tests.harness import Floor, local_start

SITE = """
site: {name: overflow, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
vendors:
  va:
    trunk: PJSIP/1200@vendor-a
    skills: [gen]
    max_concurrent: 1
    max_per_hour: 3
    hours: {open: [{start: "09:00", end: "18:00"}]}
queues:
  gen:
    skill: gen
    pools: [floor]
    wrap_up_seconds: 1
    overflow:
      - {vendors: [va], when: {RULE}}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
surge:
  stages:
    - {stage: 1, enter_at_calls_per_day: 60000}
    - {stage: 2, enter_at_calls_per_day: 80000}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
"""

MONDAY_10 = local_start(0, 10)


def floor(rule: str = "waited_over_seconds: 60", start: float = MONDAY_10) -> Floor:
    return Floor(SITE.replace("RULE", rule), start=start)


def dialled(f: Floor, call_id: str | None = None) -> list[str]:
    return [d.call_id for d in f.commands(cmd.DialVendor, call_id)]


def vendor_takes(f: Floor, call_id: str, talk: float = 30) -> None:
    f.send(ev.VendorAnswered(call_id=call_id))
    f.advance(talk)
    f.send(ev.VendorHungUp(call_id=call_id))


# ---------------------------------------------------------------- rules


def test_caller_waiting_over_the_threshold_is_sent_to_the_vendor_trunk() -> None:
    f = floor()
    f.call("c1", caller="0212345678")
    f.advance(59.9)
    assert dialled(f) == []
    out = f.advance(0.1)
    assert [c for c in out if isinstance(c, cmd.DialVendor)] == [
        cmd.DialVendor(
            call_id="c1",
            vendor="va",
            endpoint="PJSIP/1200@vendor-a",
            timeout=30.0,
            caller="0212345678",
            queue="gen",
        )
    ]
    f.send(ev.VendorAnswered(call_id="c1"))
    assert f.outcome("c1") == "vendor_answered"
    assert f.queue("gen").overflowed == 1
    assert f.queue("gen").vendor_answered == 1
    assert f.queue("gen").answer_rate == 1.0
    f.advance(100)
    out = f.send(ev.VendorHungUp(call_id="c1"))
    assert cmd.HangupCaller(call_id="c1") in out


def test_stage_rule_overflows_only_once_the_surge_stage_is_reached() -> None:
    f = floor("stage_at_least: 2")
    f.call("c1")
    f.advance(300)
    f.send(ev.SetSurgeStage(stage=1))
    f.advance(300)
    assert dialled(f) == []
    out = f.send(ev.SetSurgeStage(stage=2))
    assert [c.call_id for c in out if isinstance(c, cmd.DialVendor)] == ["c1"]


def test_stage_rule_sends_new_callers_straight_away_during_the_stage() -> None:
    f = floor("stage_at_least: 2")
    f.send(ev.SetSurgeStage(stage=2))
    f.call("c1")
    assert dialled(f) == ["c1"]


def test_queue_longer_than_sends_the_caller_who_makes_it_too_long() -> None:
    f = floor("queue_longer_than: 2")
    f.call("c1")
    f.call("c2")
    assert dialled(f) == []
    f.call("c3")
    assert dialled(f) == ["c3"]
    f.login("a1")  # the callers before keep their places with us
    assert f.rung() == ["a1"]
    assert f.rung("c1") == ["a1"]


def test_predicted_wait_rule_uses_the_expected_wait_of_the_joining_caller() -> None:
    # No handle time yet: 180 s + 1 s wrap-up per caller ahead (one agent staffed).
    f = floor("predicted_wait_over_seconds: 300")
    f.login("a1")
    f.call("c0")
    f.answer("a1", "c0")
    f.call("c1")  # 1st in line: 181 s expected
    assert dialled(f) == []
    f.call("c2")  # 2nd in line: 362 s expected
    assert dialled(f) == ["c2"]


def test_combined_conditions_must_all_hold() -> None:
    f = floor("waited_over_seconds: 60, stage_at_least: 1")
    f.call("c1")
    f.advance(120)
    assert dialled(f) == []  # waited long enough, but no surge stage
    f.send(ev.SetSurgeStage(stage=1))
    assert dialled(f) == ["c1"]


# ---------------------------------------------------------------- contract caps and hours


def test_next_caller_waits_for_the_vendors_seat_to_free_up() -> None:
    f = floor()
    f.call("c1")
    f.advance(10)
    f.call("c2")
    f.advance(50)
    assert dialled(f) == ["c1"]
    f.send(ev.VendorAnswered(call_id="c1"))
    f.advance(100)  # c2 qualified at 70 s; the vendor's one seat is taken
    assert dialled(f) == ["c1"]
    out = f.send(ev.VendorHungUp(call_id="c1"))
    assert [c.call_id for c in out if isinstance(c, cmd.DialVendor)] == ["c2"]
    assert f.engine.metrics.vendors["va"].peak_concurrent == 1


def test_hourly_cap_holds_callers_until_the_next_clock_hour() -> None:
    f = floor(start=local_start(0, 10, 50))
    for n in range(4):
        f.call(f"c{n}")
    f.advance(60)  # all four qualify at 10:51
    for n in range(3):
        vendor_takes(f, f"c{n}", talk=10)
    assert dialled(f) == ["c0", "c1", "c2"]
    f.advance(8 * 60 + 29)  # 10:59:59
    assert dialled(f) == ["c0", "c1", "c2"]
    f.advance(1)  # 11:00: a new hour of the contract
    assert dialled(f) == ["c0", "c1", "c2", "c3"]


def test_callers_held_by_the_hourly_cap_wait_on_one_look_at_the_vendor() -> None:
    """Forty callers qualify while the hour's cap is used up: the engine looks at the
    vendor again once, when the hour turns, not once per caller who found it capped."""
    f = floor(start=local_start(0, 10, 50))
    for n in range(43):
        f.call(f"c{n}")
    f.advance(60)
    for n in range(3):
        vendor_takes(f, f"c{n}", talk=10)
    f.advance(60)
    looks = [t for t in export_state(f.engine).timers.heap if t[2] == "vendor_free"]
    assert [t[0] for t in looks] == [local_start(0, 11)]
    f.advance(8 * 60)  # 11:00
    assert dialled(f)[3:] == ["c3"]


def test_closed_vendor_takes_no_overflow_and_opens_on_time() -> None:
    f = floor(start=local_start(0, 8, 50))
    f.call("c1")
    f.advance(9 * 60 + 59)  # 08:59:59: waited long enough, vendor still closed
    assert dialled(f) == []
    f.advance(1)
    assert dialled(f) == ["c1"]


def test_vendor_closed_in_the_evening_leaves_callers_with_us() -> None:
    f = floor(start=local_start(0, 18, 30))
    f.call("c1")
    f.advance(3600)
    assert dialled(f) == []
    f.login("a1")
    assert f.rung("c1") == ["a1"]


# ---------------------------------------------------------------- vendor failures and agents


def test_busy_vendor_puts_the_caller_back_and_rests_before_trying_again() -> None:
    f = floor()
    f.call("c1")
    f.advance(10)
    f.call("c2")
    f.advance(50)
    assert dialled(f) == ["c1"]
    f.advance(2)
    f.send(ev.VendorFailed(call_id="c1", cause="busy"))
    assert f.outcome("c1") is None
    f.advance(29.9)  # c2 qualified meanwhile; the vendor is resting
    assert dialled(f) == ["c1"]
    f.advance(0.1)
    assert dialled(f) == ["c1", "c1"]  # c1 first: it kept its place
    assert f.engine.metrics.vendors["va"].failed == 1
    assert f.queue("gen").overflowed == 1  # counted once per caller


def test_caller_back_from_a_busy_vendor_is_first_for_our_agent() -> None:
    f = floor()
    f.call("c1")
    f.advance(10)
    f.call("c2")
    f.advance(50)
    f.send(ev.VendorFailed(call_id="c1"))
    f.advance(5)
    f.login("a1")
    assert f.rung() == ["a1"]
    assert f.rung("c1") == ["a1"]


def test_vendor_not_answering_in_time_is_cancelled_and_the_caller_kept() -> None:
    f = floor()
    f.call("c1")
    f.advance(60)
    out = f.advance(30)
    assert cmd.CancelVendor(call_id="c1", vendor="va") in out
    assert f.outcome("c1") is None
    f.login("a1")
    assert f.rung("c1") == ["a1"]


def test_agent_freeing_up_takes_the_caller_before_the_vendor() -> None:
    f = floor()
    f.login("a1")
    f.call("c0")
    f.answer("a1", "c0")
    f.call("busy_vendor")
    f.advance(60)
    f.send(ev.VendorAnswered(call_id="busy_vendor"))  # the vendor's one seat
    f.call("c1")
    f.advance(70)  # c1 qualifies at 60 s but the vendor is full
    f.agent_hangs_up("a1", "c0")
    f.advance(1)
    assert f.rung("c1") == ["a1"]
    f.send(ev.VendorHungUp(call_id="busy_vendor"))
    assert dialled(f, "c1") == []
    f.answer("a1", "c1")
    assert f.outcome("c1") == "answered"


def test_caller_hanging_up_while_the_vendor_rings_frees_the_seat() -> None:
    f = floor()
    f.call("c1")
    f.advance(10)
    f.call("c2")
    f.advance(50)
    f.advance(20)
    out = f.hang_up("c1")
    assert cmd.CancelVendor(call_id="c1", vendor="va") in out
    assert f.outcome("c1") == "abandoned"
    assert dialled(f, "c2") == ["c2"]
