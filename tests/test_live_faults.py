"""Faults on a live floor: the events socket drops mid-call, REST calls fail or hang,
events come for channels nobody knows, the PBX restarts. In every case no caller is
lost (each ends with an outcome or is still served) and no agent stays reserved."""

from __future__ import annotations

import logging

import msgspec
import pytest

from acd.engine import persist
from acd.softphone_sim.pbx import VirtualPbx
from tests.live import Floor, run_live
from tests.test_live_features import MENU, site

ANNOUNCE = "announce: {first_after_seconds: 10, every_seconds: 10}"


def agents_settled(f: Floor) -> bool:
    return all(a.state in ("available", "wrap_up", "logged_out", "paused")
               for a in f.engine.agents.values())


def test_agent_answering_during_a_socket_gap_is_settled_and_the_call_offered_again() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=3.0, talk=20.0)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: agent.rings == 1)
        # The agent answers while the app has no socket: Asterisk cannot put the leg
        # into an inactive Stasis app and hangs it up. Reconciliation finds it gone.
        await f.pbx.drop_websockets(refuse_for=6.0)
        await f.until(lambda: f.controller.stats.reconciled_gone == 1, within=60)
        assert f.client.counters.connects == 2
        await f.until(lambda: bool(caller.bridged_with), within=60)
        assert agent.rings == 2  # offered again, answered again
        assert caller.ended_by_pbx is None  # the caller never noticed
        await f.until(lambda: caller.ended_by_pbx is not None, within=60)
        assert f.outcomes() == {"answered": 1}
        await f.until(lambda: agents_settled(f))

    run_live(site(), scenario)


def test_caller_who_hangs_up_during_a_gap_is_settled_and_the_agent_freed() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=None)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"}, patience=3.0)
        f.call(caller)
        await f.until(lambda: agent.rings == 1)
        await f.pbx.drop_websockets(refuse_for=8.0)
        await f.until(lambda: f.outcomes() != {}, within=60)
        assert f.outcomes() == {"abandoned": 1}
        assert f.controller.stats.reconciled_gone >= 1
        await f.until(lambda: f.engine.agents["1001"].state == "available")
        assert f.engine.calls == {}
        assert agent.ended_by_pbx  # the ring was cancelled, not left ringing

    run_live(site(), scenario)


def test_failed_originates_are_misses_and_the_call_is_offered_again() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=1.0, talk=10.0)
        await f.login("PJSIP/agent1001")
        f.pbx.fail_next(1, status=500, path="/channels")  # the originate fails
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: bool(caller.bridged_with), within=60)
        assert agent.rings == 1  # the failed originate never rang
        assert f.controller.stats.rest_failures >= 1
        assert f.outcomes() == {"answered": 1}

    run_live(site(), scenario)


def test_rest_calls_that_hang_time_out_and_the_floor_recovers() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=1.0, talk=10.0)
        await f.login("PJSIP/agent1001")
        f.pbx.delay_rest(3.0)  # wall seconds: longer than the client's 2 s timeout
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: f.client.counters.timeouts > 0, within=200)
        f.pbx.delay_rest(0.0)
        # A prompt whose request timed out counts as played for the flow, so the
        # caller is not stuck in a menu that never started: they get through.
        await f.until(lambda: bool(caller.bridged_with), within=400)
        assert agent.answered >= 1
        await f.until(lambda: caller.ended_by_pbx is not None, within=200)
        assert f.outcomes() == {"answered": 1}
        await f.until(lambda: agents_settled(f), within=200)

    run_live(site(), scenario)


def test_events_for_unknown_channels_are_counted_and_harmless() -> None:
    async def scenario(f: Floor) -> None:
        # A channel enters the app claiming to be an agent leg of a call we never had.
        stray = f.caller()
        f.pbx.dial_feature("PJSIP/agent1002", ["agent", "no-such-call"], stray)
        await f.until(lambda: stray.ended_by_pbx is not None)
        assert f.controller.stats.stray_events == 1
        # The floor still works.
        f.phone("PJSIP/agent1001", answer_after=1.0, talk=5.0)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: bool(caller.bridged_with))

    run_live(site(), scenario)


def test_pbx_restart_settles_every_call_and_the_floor_carries_on() -> None:
    async def scenario(f: Floor) -> None:
        f.phone("PJSIP/agent1001", answer_after=1.0, talk=600.0)
        await f.login("PJSIP/agent1001")
        talking, waiting = f.caller(keys={MENU: "1"}), f.caller(keys={MENU: "1"})
        f.call(talking)
        await f.until(lambda: bool(talking.bridged_with))
        f.call(waiting)
        await f.until(lambda: waiting.held)
        await f.sleep(10)  # ten seconds on hold: past the 2 s of a short abandon
        port = f.pbx.port
        assert port is not None
        await f.pbx.stop()  # every channel is gone with it
        fresh = VirtualPbx(start=f.pbx.clock.now(), users={"acd": "pw"})
        await fresh.start("127.0.0.1", port)
        f.pbx = fresh
        await f.until(lambda: f.client.counters.connects >= 2, within=200)
        await f.until(lambda: f.engine.calls == {}, within=60)
        assert f.outcomes() == {"answered": 1, "abandoned": 1}
        await f.until(lambda: agents_settled(f), within=60)
        # The agent logs in again on the new PBX and takes new calls.
        f.phone("PJSIP/agent1001", answer_after=1.0, talk=5.0)
        await f.login("PJSIP/agent1001")
        again = f.caller(keys={MENU: "1"})
        f.call(again)
        await f.until(lambda: bool(again.bridged_with), within=60)

    run_live(site(), scenario)


def test_a_talk_bridge_whose_legs_cannot_be_added_is_removed() -> None:
    """Asterisk refuses to add a channel that has just hung up (400 "Channel not
    found", 422 "Channel not in Stasis application"); the bridge made for that
    conversation must not stay behind, empty, for ever."""

    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=1.0, talk=5.0)
        await f.login("PJSIP/agent1001")
        f.pbx.fail_next(1, status=400, path="/bridges/acd-talk-*/addChannel")
        caller = f.caller(keys={MENU: "1"})
        line = f.call(caller)
        await f.until(lambda: agent.answered == 1)
        await f.until(lambda: f.pbx.stats.rest_by_status[400] == 1)
        line.hang_up()  # the caller who "had hung up" in Asterisk's answer
        await f.until(lambda: f.engine.calls == {}, within=60)
        await f.until(lambda: agents_settled(f))
        assert caller.bridged_with == []
        # Nothing left but the agent's own talk bridge, empty, kept for their next call.
        talk = {b: x for b, x in f.pbx.asterisk.bridges.items() if b.startswith("acd-talk-")}
        assert set(talk) <= {"acd-talk-agent-1001"}
        assert all(not x.channels for x in talk.values())
        assert f.controller.stats.bridges_removed == 0  # removed at once, not found later
        assert f.controller.stats.rest_failures == 0  # a leg that left is no failure

    run_live(site(), scenario)



def test_a_vendor_calls_bridge_whose_legs_cannot_be_added_is_removed() -> None:
    """The same for a conversation's own bridge (a vendor call): made for one call,
    it must not stay behind, empty, when its legs could not be put in it."""

    async def scenario(f: Floor) -> None:
        vendor = f.phone("PJSIP/vendor-a", answer_after=1.0, talk=20.0)
        f.pbx.fail_next(1, status=400, path="/bridges/acd-talk-*/addChannel")
        caller = f.caller(keys={MENU: "1"})
        line = f.call(caller)  # nobody logged in: after 30 s waiting, the vendor
        await f.until(lambda: vendor.answered == 1, within=120)
        await f.until(lambda: f.pbx.stats.rest_by_status[400] == 1)
        line.hang_up()
        await f.until(lambda: f.engine.calls == {}, within=60)
        assert caller.bridged_with == []
        assert [b for b in f.pbx.asterisk.bridges if b.startswith("acd-talk-")] == []
        assert f.controller.stats.rest_failures == 0

    run_live(site("overflow: [{vendors: [va], when: {waited_over_seconds: 30}}]"), scenario)

def test_a_successor_whose_state_missed_an_answer_does_not_ring_another_agent() -> None:
    """The engine acts on Asterisk before its journal write lands: a predecessor that
    bridged a caller to an agent may die with the answer unrecorded. Its successor
    finds the agent's leg up while its state still has it ringing: that is the
    answer, not a ring to give up on and offer to another agent."""

    async def scenario(f: Floor) -> None:
        first = f.phone("PJSIP/agent1001", answer_after=None, talk=None)
        second = f.phone("PJSIP/agent1002", answer_after=0.5, talk=None)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: first.rings == 1)
        # What the journal kept: the call ringing (encoded, as the store keeps it).
        stored = msgspec.msgpack.encode(persist.export_state(f.engine))
        first.lines[0].answer()
        await f.until(lambda: bool(caller.bridged_with))
        state = msgspec.msgpack.decode(stored, type=persist.EngineState)
        successor = await f.take_over(persist.restore(f.engine.config, state))
        await f.login("PJSIP/agent1002")  # free, and would be rung for a missed call
        await f.until(lambda: [c.state for c in successor.engine.calls.values()]
                      == ["connected"])
        await f.sleep(30)  # past the 10 s ring timeout
        assert second.rings == 0
        assert caller.ended_by_pbx is None and first.conversations
        assert f.pbx.stats.rest_by_status[400] == 0

    run_live(site(), scenario)


def test_requests_the_gone_pbx_never_answers_make_one_log_line_every_ten_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The PBX goes away with callers on hold (a demo's `acd pbx` ended, Asterisk
    stopped): their announcements keep failing with no answer. The operator gets one
    line every 10 s saying so, not one per request."""
    caplog.set_level(logging.INFO, logger="acd.controller")

    async def scenario(f: Floor) -> None:
        waiting = [f.caller(keys={MENU: "1"}, patience=3600.0) for _ in range(6)]
        for caller in waiting:
            f.call(caller)
        await f.until(lambda: all(c.held for c in waiting))
        await f.pbx.stop()
        await f.until(lambda: f.controller.unanswered.total >= 30, within=600)

    run_live(site(ANNOUNCE), scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "acd.controller"]
    summaries = [line for line in lines if line.startswith("Asterisk did not answer")]
    assert not [line for line in lines if "no answer" in line and line not in summaries]
    assert 2 <= len(summaries) < 30, summaries
    assert "AnnounceWait failed" in summaries[-1]
