"""Virtual hold and the return-call centre, as the caller and the agent live them:
the callback offer when the wait is long, keeping the caller's place, the agent
reserved before the caller is dialled, failed callbacks tried again, and a
counsellor passing a medical question to the nurses, who call back.

One counsellor (a1) staffs the general queue: with no handle time measured yet the
engine expects 180 s + 10 s wrap-up per caller ahead, so the second caller in line
(380 s) is over the 200 s threshold and is offered a callback; the first (190 s)
is not. Callbacks ring 30 s, are tried twice, 300 s apart.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.states import AgentState
from tests.harness import Floor

A = AgentState

SITE = """
site: {name: callback, utc_offset: "+09:00", dial_out: "PJSIP/{number}@pstn"}
skills: {gen: {}, medical: {}}
pools: {floor: {kind: in_house}, nurses: {kind: in_house}}
vendors:
  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 1}
queues:
  gen:
    skill: gen
    pools: [floor]
    wrap_up_seconds: 10
    callback:
      when_expected_wait_over_seconds: 200
      digit: "1"
      offer_prompt: ["sound:press-1-for-callback"]
      confirm_prompt: ["sound:we-will-call-you"]
      max_attempts: 2
      retry_after_seconds: 300
      ring_timeout_seconds: 30
  medical:
    skill: medical
    pools: [nurses]
    callback: {when_expected_wait_over_seconds: 0, ring_timeout_seconds: 20}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: n1, endpoint: PJSIP/nurse1, pool: nurses, skills: [{skill: medical, level: 5}]}
"""

WITH_OVERFLOW = SITE.replace(
    "      ring_timeout_seconds: 30\n",
    "      ring_timeout_seconds: 30\n"
    "    overflow: [{vendors: [va], when: {waited_over_seconds: 60}}]\n",
)


def busy_floor(site: str = SITE) -> Floor:
    """a1 is on a call with c0; c1 waits first in line."""
    f = Floor(site)
    f.login("a1")
    f.call("c0")
    f.answer("a1", "c0")
    f.call("c1")
    return f


def ask_for_callback(f: Floor, call_id: str, caller: str = "01099998888") -> None:
    """The caller joins, hears the offer, presses 1, hears the confirmation, and the
    engine hangs up; the PBX reports the line down."""
    f.call(call_id, caller=caller)
    f.advance(2)
    f.press(call_id, "1")
    f.advance(2)
    f.hang_up(call_id)


def finish(f: Floor, agent: str, call_id: str) -> None:
    """The agent ends the conversation and completes wrap-up."""
    f.agent_hangs_up(agent, call_id)
    f.advance(10)


# ---------------------------------------------------------------- the offer


def test_only_a_caller_facing_a_long_wait_is_offered_a_callback() -> None:
    f = busy_floor()
    f.call("c2")
    assert "sound:press-1-for-callback" not in f.heard("c1")
    assert f.heard("c2") == ["sound:press-1-for-callback"]


def test_pressing_the_digit_confirms_then_the_engine_hangs_up() -> None:
    f = busy_floor()
    f.call("c2", caller="01099998888")
    f.advance(2)
    f.press("c2", "1")
    assert f.heard("c2")[-1] == "sound:we-will-call-you"
    assert not f.commands(cmd.HangupCaller, "c2")
    f.advance(2)
    assert f.commands(cmd.HangupCaller, "c2")
    f.hang_up("c2")  # the line goes down: not an abandon, the place is kept
    assert f.outcome("c2") is None
    assert f.queue("gen").callbacks_requested == 1
    assert f.queue("gen").abandoned + f.queue("gen").short_abandoned == 0


def test_other_digits_do_not_request_a_callback() -> None:
    f = busy_floor()
    f.call("c2")
    f.advance(2)
    f.press("c2", "5")
    f.advance(2)
    assert not f.commands(cmd.HangupCaller, "c2")
    assert f.queue("gen").callbacks_requested == 0


# ---------------------------------------------------------------- the call back


def test_callback_keeps_the_place_and_reserves_the_agent_before_dialling() -> None:
    f = busy_floor()
    ask_for_callback(f, "c2", caller="01099998888")
    f.advance(60)
    f.call("c3")  # a live caller, later in line
    finish(f, "a1", "c0")
    assert f.rung("c1") == ["a1"]
    f.answer("a1", "c1")
    finish(f, "a1", "c1")
    rings = f.commands(cmd.RingAgent)
    assert [(r.call_id, r.callback) for r in rings] == [("c0", False), ("c1", False), ("c2", True)]
    assert f.commands(cmd.DialCallback, "c2") == []  # nobody dials before the agent is there
    out = f.answer("a1", "c2")
    assert [c for c in out if isinstance(c, cmd.DialCallback)] == [
        cmd.DialCallback(
            call_id="c2",
            agent_id="a1",
            number="01099998888",
            endpoint="PJSIP/01099998888@pstn",
            timeout=30.0,
            attempt=1,
        )
    ]
    assert f.agent_state("a1") is A.ON_CALL
    assert f.commands(cmd.Connect, "c2") == []
    f.advance(8)
    out = f.send(ev.CallbackAnswered(call_id="c2"))
    assert cmd.Connect(call_id="c2", agent_id="a1") in out
    assert f.outcome("c2") == "answered"
    assert f.rung("c3") == []  # still behind the callback


def test_failed_callback_is_tried_again_later_then_given_up() -> None:
    f = busy_floor()
    ask_for_callback(f, "c2")
    finish(f, "a1", "c0")
    f.answer("a1", "c1")
    finish(f, "a1", "c1")
    f.answer("a1", "c2")
    f.advance(5)
    out = f.send(ev.CallbackFailed(call_id="c2", cause="busy"))
    assert cmd.HangupAgent(call_id="c2", agent_id="a1") in out
    assert f.agent_state("a1") is A.AVAILABLE  # free for other callers meanwhile
    assert f.outcome("c2") is None
    f.advance(299)
    assert f.rung("c2") == ["a1"]
    f.advance(1)
    assert f.rung("c2") == ["a1", "a1"]
    f.answer("a1", "c2")
    assert [d.attempt for d in f.commands(cmd.DialCallback, "c2")] == [1, 2]
    f.advance(30)  # nobody picks up: the ring times out
    assert f.commands(cmd.HangupCaller, "c2")
    assert f.outcome("c2") == "callback_failed"
    assert f.queue("gen").callback_failed == 1
    assert f.agent_state("a1") is A.AVAILABLE
    f.advance(600)
    assert f.rung("c2") == ["a1", "a1"]  # given up: no third attempt


def test_a_live_caller_is_served_while_a_failed_callback_waits_to_retry() -> None:
    f = busy_floor()
    ask_for_callback(f, "c2")
    finish(f, "a1", "c0")
    f.answer("a1", "c1")
    finish(f, "a1", "c1")
    f.answer("a1", "c2")
    f.send(ev.CallbackFailed(call_id="c2"))
    f.call("c3")
    assert f.rung("c3") == ["a1"]


def test_callback_request_is_never_sent_to_a_vendor() -> None:
    # The caller's line is down: a vendor trunk could not be bridged to it.
    f = busy_floor(WITH_OVERFLOW)
    f.advance(60)
    f.send(ev.VendorAnswered(call_id="c1"))  # c1 went to the vendor; its one seat is taken
    f.call("c2")
    f.call("c3")
    assert f.heard("c3") == ["sound:press-1-for-callback"]
    f.advance(61)  # both qualify for the vendor; the vendor is full
    f.press("c3", "1")
    f.advance(2)
    f.hang_up("c3")
    f.send(ev.VendorHungUp(call_id="c1"))  # the seat frees up: c2 goes
    assert [d.call_id for d in f.commands(cmd.DialVendor)] == ["c1", "c2"]
    f.send(ev.VendorAnswered(call_id="c2"))
    f.advance(30)
    f.send(ev.VendorHungUp(call_id="c2"))  # free again
    f.advance(60)
    assert f.commands(cmd.DialVendor, "c3") == []
    finish(f, "a1", "c0")
    assert f.commands(cmd.RingAgent)[-1] == cmd.RingAgent(
        call_id="c3",
        agent_id="a1",
        endpoint="PJSIP/a1",
        timeout=15.0,
        caller="01012345678",
        queue="gen",
        callback=True,
    )


# ---------------------------------------------------------------- the return-call centre


def test_counsellor_refers_a_medical_question_to_the_nurses_who_call_back() -> None:
    f = Floor(SITE)
    f.login("a1", "n1")
    f.call("c1", caller="01077776666")
    f.answer("a1", "c1")
    f.advance(90)
    f.send(ev.AgentReferredCallback(agent_id="a1", call_id="c1", queue="medical"))
    rings = f.commands(cmd.RingAgent)
    assert [(r.agent_id, r.queue, r.callback) for r in rings] == [
        ("a1", "gen", False),
        ("n1", "medical", True),
    ]
    referral = rings[-1].call_id
    assert f.agent_state("a1") is A.ON_CALL  # the counsellor's conversation goes on
    f.answer("n1", referral)
    dial = f.commands(cmd.DialCallback, referral)
    assert [(d.number, d.agent_id) for d in dial] == [("01077776666", "n1")]
    f.send(ev.CallbackAnswered(call_id=referral))
    assert f.outcome(referral) == "answered"
    assert f.queue("medical").callbacks_requested == 1
    assert f.queue("medical").answered == 1
    f.agent_hangs_up("a1", "c1")
    assert f.outcome("c1") == "answered"


def test_referral_waits_for_a_nurse_to_be_free() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.answer("a1", "c1")
    f.send(ev.AgentReferredCallback(agent_id="a1", call_id="c1", queue="medical"))
    f.agent_hangs_up("a1", "c1")
    f.advance(3600)
    assert [r.agent_id for r in f.commands(cmd.RingAgent)] == ["a1"]
    f.login("n1")
    rings = f.commands(cmd.RingAgent)
    assert (rings[-1].agent_id, rings[-1].callback) == ("n1", True)


def test_a_second_referral_from_the_same_conversation_is_a_call_of_its_own() -> None:
    f = Floor(SITE)
    f.login("a1", "n1")
    f.call("c1", caller="01077776666")
    f.answer("a1", "c1")
    f.send(ev.AgentReferredCallback(agent_id="a1", call_id="c1", queue="medical"))
    first = f.commands(cmd.RingAgent)[-1].call_id
    f.answer("n1", first)
    f.send(ev.CallbackAnswered(call_id=first))
    f.agent_hangs_up("n1", first)
    f.advance(60)  # the first referral is over; its timers may still be due
    f.send(ev.AgentReferredCallback(agent_id="a1", call_id="c1", queue="medical"))
    second = f.commands(cmd.RingAgent)[-1].call_id
    assert second != first
    f.answer("n1", second)
    f.send(ev.CallbackAnswered(call_id=second))
    assert f.outcome(first) == "answered"
    assert f.outcome(second) == "answered"
    assert f.queue("medical").answered == 2
    assert not f.engine.anomalies


def test_caller_still_hearing_the_confirmation_is_put_straight_through() -> None:
    """The agent frees up while the confirmation plays: the caller is still on the
    line, so they are connected, not hung up and dialled back."""
    f = busy_floor()
    f.prompt_seconds = 60.0  # long prompts: the confirmation outlasts what follows
    f.call("c2", caller="01099998888")
    f.advance(1)
    f.press("c2", "1")  # the confirmation starts
    f.agent_hangs_up("a1", "c0")
    f.advance(10)  # wrap-up ends; c1 (first in line) is rung
    f.answer("a1", "c1")
    f.agent_hangs_up("a1", "c1")
    f.advance(10)  # wrap-up ends again; c2 is next
    assert f.rung("c2") == ["a1"]
    assert not f.commands(cmd.HangupCaller, "c2")
    out = f.answer("a1", "c2")
    assert cmd.StopPlayback(call_id="c2") in out
    assert f.commands(cmd.Connect, "c2")
    assert not f.commands(cmd.DialCallback, "c2")
    assert f.outcome("c2") == "answered"
    f.advance(120)  # the stopped confirmation's end must not hang the caller up
    assert not f.commands(cmd.HangupCaller, "c2")


def test_line_down_report_while_the_agent_rings_does_not_abandon_a_callback() -> None:
    f = busy_floor()
    f.call("c2", caller="01099998888")
    f.advance(1)
    f.press("c2", "1")
    f.agent_hangs_up("a1", "c0")
    f.advance(10)  # a1 rings for c1
    f.answer("a1", "c1")
    f.agent_hangs_up("a1", "c1")
    f.advance(10)  # a1 rings for c2, whose confirmation ended: the line went down
    assert f.commands(cmd.HangupCaller, "c2")
    assert f.rung("c2") == ["a1"]
    f.hang_up("c2")  # the PBX reports the line we hung up
    assert f.call_state("c2") is not None
    f.answer("a1", "c2")
    assert [d.number for d in f.commands(cmd.DialCallback, "c2")] == ["01099998888"]
    f.send(ev.CallbackAnswered(call_id="c2"))
    assert f.outcome("c2") == "answered"


def test_callbacks_waiting_do_not_fill_the_queue() -> None:
    """`max_waiting` is about callers on hold: a caller who took a callback has
    hung up, so the next caller is not turned away as "queue full"."""
    full = SITE.replace(
        "    wrap_up_seconds: 10\n", "    wrap_up_seconds: 10\n    max_waiting: 2\n", 1
    )
    f = busy_floor(full)  # a1 talks to c0; c1 is on hold (1 of 2)
    ask_for_callback(f, "c2")  # c2 takes a callback: its line goes down
    f.call("c3")  # on hold: 2 of 2
    f.call("c4")  # a third caller on hold would be one too many
    f.advance(3)  # c4 hears that the queue is full, then the line goes down
    assert f.outcome("c3") is None
    assert f.outcome("c4") == "blocked"
    assert f.call_state("c2") is not None  # the callback keeps its place
