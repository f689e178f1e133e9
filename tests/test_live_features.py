"""End to end over real sockets: the controller drives the virtual PBX (which speaks
ARI as Asterisk 22 does) and each feature is checked from the caller's side (what
they heard, whom they talked to, who hung up) and in the engine's metrics."""

from __future__ import annotations

from tests.live import Floor, run_live

SITE = """
site: {name: live, utc_offset: "+09:00", short_abandon_seconds: 2}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
vendors:
  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 2, ring_timeout_seconds: 20}
queues:
  gen:
    skill: gen
    pools: [floor]
    wrap_up_seconds: 5
    ring_timeout_seconds: 10
    music_on_hold: calm
    join_prompt: ["sound:custom/queue-general"]
    EXTRA
ivr:
  entry: menu
  nodes:
    menu:
      kind: menu
      prompt: ["sound:custom/main-menu"]
      options: {"1": {queue: gen}, "2": {goto: link}, "9": {goto: bye}}
      timeout_seconds: 5
      retries: 1
    link: {kind: send_link, link: "https://example.org/book", prompt: ["sound:custom/link-sent"]}
    bye: {kind: hangup, prompt: ["sound:vm-goodbye"]}
missed_ring: {pause_after: 2, rest_seconds: 5}
abusive: {warning: ["sound:custom/abuse-warning"], cool_down_seconds: 60}
agents:
  - {id: "1001", endpoint: PJSIP/agent1001, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: "1002", endpoint: PJSIP/agent1002, pool: floor, skills: [{skill: gen, level: 3}]}
"""

MENU = "sound:custom/main-menu"


def site(extra: str = "") -> str:
    return SITE.replace("EXTRA", extra)


def test_caller_presses_1_waits_on_hold_and_talks_to_the_agent_who_answers() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=2.0, talk=30.0)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: bool(caller.bridged_with))
        assert MENU in caller.heard and "sound:custom/queue-general" in caller.heard
        assert caller.held
        assert agent.rings == 1 and agent.answered == 1
        # The agent hangs up after the talk; the engine hangs the caller up.
        await f.until(lambda: caller.ended_by_pbx is not None)
        assert f.queue("gen").answered == 1 and f.queue("gen").offered == 1
        assert f.outcomes() == {"answered": 1}
        await f.until(lambda: f.engine.agents["1001"].state == "wrap_up")
        await f.until(lambda: f.engine.agents["1001"].state == "available", within=30)
        assert f.controller.calls == {}  # every leg settled, nothing kept
        # Asterisk 22 takes REST requests on the events socket: after the first
        # connection's reconciliation (over HTTP), they go there.
        assert f.client.counters.ws_requests > 0

    run_live(site(), scenario)


def test_a_pbx_that_takes_no_rest_on_its_socket_is_driven_over_http() -> None:
    async def scenario(f: Floor) -> None:
        f.phone("PJSIP/agent1001", answer_after=2.0, talk=10.0)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: caller.ended_by_pbx is not None)
        assert f.outcomes() == {"answered": 1}
        assert f.client.counters.ws_requests == 0
        assert f.client.counters.requests > 5

    run_live(site(), scenario, rest_over_websocket=False)


def test_ivr_paths_link_and_goodbye_end_the_call_from_the_pbx_side() -> None:
    async def scenario(f: Floor) -> None:
        link = f.caller(keys={MENU: "2"})
        bye = f.caller(keys={MENU: "9"})
        silent = f.caller()  # presses nothing: the menu retries, then fails
        for c in (link, bye, silent):
            f.call(c)
        await f.until(lambda: all(c.ended_by_pbx is not None for c in (link, bye, silent)))
        assert "sound:custom/link-sent" in link.heard
        assert "sound:vm-goodbye" in bye.heard
        assert silent.heard.count(MENU) == 2  # first try and one retry
        assert f.engine.metrics.ivr.links_sent == 1
        assert f.outcomes() == {"self_served": 2, "ivr_failed": 1}
        assert len(f.pbx.messages) == 1  # the link went out as a text message

    run_live(site(), scenario)


def test_hang_up_during_a_prompt_is_an_ivr_abandon() -> None:
    async def scenario(f: Floor) -> None:
        caller = f.caller(hang_up_on=MENU)
        f.call(caller)
        await f.until(lambda: f.outcomes() == {"ivr_abandoned": 1})
        assert f.engine.calls == {}

    run_live(site(), scenario)


def test_a_missed_ring_puts_the_caller_back_and_the_next_agent_takes_it() -> None:
    async def scenario(f: Floor) -> None:
        sleepy = f.phone("PJSIP/agent1001", answer_after=None)  # rings out: cause 19
        awake = f.phone("PJSIP/agent1002", answer_after=1.0, talk=10.0)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: sleepy.rings == 1)
        await f.login("PJSIP/agent1002")
        await f.until(lambda: bool(caller.bridged_with), within=60)
        assert awake.answered == 1
        assert f.engine.agents["1001"].missed == 1
        assert f.outcomes() == {"answered": 1}
        assert f.queue("gen").answered == 1

    run_live(site(), scenario)


def test_a_busy_agent_is_a_miss_with_cause_busy_and_twice_pauses_them() -> None:
    async def scenario(f: Floor) -> None:
        busy = f.phone("PJSIP/agent1001", reject=17)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        # Two busy answers in a row (with the 5 s rest between): paused "missed".
        await f.until(lambda: f.engine.agents["1001"].state == "paused", within=60)
        assert busy.rings == 2 and busy.answered == 0
        assert f.engine.agents["1001"].reason == "missed"
        assert caller.ended_by_pbx is None and f.engine.calls  # still waiting

    run_live(site(), scenario)


def test_caller_abandons_while_the_agent_rings_and_the_ring_stops() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=None)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"}, patience=4.0)
        f.call(caller)
        await f.until(lambda: f.outcomes() != {})
        assert agent.rings == 1
        assert f.outcomes() == {"abandoned": 1}
        # The agent's leg was cancelled (not answered, not left ringing), and the
        # agent is free again without a missed-ring mark.
        await f.until(lambda: agent.ended_by_pbx != [])
        await f.until(lambda: f.engine.agents["1001"].state == "available")
        assert f.engine.agents["1001"].missed == 0

    run_live(site(), scenario)


def test_vendor_overflow_dials_the_trunk_and_bridges_the_caller() -> None:
    async def scenario(f: Floor) -> None:
        vendor = f.phone("PJSIP/vendor-a", answer_after=1.0, talk=20.0)
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)  # nobody logged in: after 30 s waiting, the vendor
        await f.until(lambda: bool(caller.bridged_with), within=120)
        assert vendor.answered == 1
        assert f.outcomes() == {"vendor_answered": 1}
        assert f.engine.metrics.vendors["va"].answered == 1
        await f.until(lambda: caller.ended_by_pbx is not None)
        assert f.engine.vendors["va"].active == 0

    run_live(
        site("overflow: [{vendors: [va], when: {waited_over_seconds: 30}}]"), scenario
    )


def test_callback_keeps_the_place_and_the_agent_calls_the_citizen_back() -> None:
    async def scenario(f: Floor) -> None:
        citizen = f.phone("PJSIP/01099998888@pstn", answer_after=2.0, talk=None)
        caller = f.caller(keys={MENU: "1", "sound:custom/cb-offer": "1"})
        f.call(caller, number="01099998888")
        await f.until(lambda: "sound:custom/cb-confirm" in caller.heard)
        await f.until(lambda: caller.ended_by_pbx is not None)  # hung up after confirming
        agent = f.phone("PJSIP/agent1001", answer_after=1.0, talk=15.0)
        await f.login("PJSIP/agent1001")
        await f.until(lambda: citizen.answered == 1, within=60)
        await f.until(lambda: citizen.ended_by_pbx != [], within=60)
        assert agent.conversations and citizen.rings == 1
        assert f.outcomes() == {"answered": 1}
        assert f.queue("gen").callbacks_requested == 1

    run_live(
        site(
            "callback: {when_expected_wait_over_seconds: 0, digit: '1', "
            "offer_prompt: ['sound:custom/cb-offer'], confirm_prompt: ['sound:custom/cb-confirm']}"
        ),
        scenario,
    )


def test_agent_flags_an_abusive_caller_who_is_warned_and_disconnected() -> None:
    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=1.0, talk=None, keys="*9")
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: caller.ended_by_pbx is not None, within=60)
        assert "sound:custom/abuse-warning" in caller.heard
        assert agent.ended_by_pbx  # the agent's leg was hung up first
        assert f.engine.agents["1001"].state == "wrap_up"
        assert f.outcomes() == {"answered": 1}

    run_live(site(), scenario)


def test_worker_protection_notice_plays_in_full_before_the_caller_is_put_through() -> None:
    notice = "sound:custom/call-is-recorded"

    async def scenario(f: Floor) -> None:
        agent = f.phone("PJSIP/agent1001", answer_after=0.2, talk=10.0)  # answers at once
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: bool(caller.bridged_with))
        assert notice in caller.heard and agent.answered == 1
        # The notice (one sound: 2.5 s) had finished before the bridge, though the
        # agent had picked up long before.
        assert caller.bridged_at is not None
        assert caller.bridged_at - caller.heard_at[notice] >= 2.4
        assert f.outcomes() == {"answered": 1}

    run_live(site(f"pre_connect: ['{notice}']"), scenario)


def test_shutdown_tells_waiting_callers_and_hands_them_back_to_the_dialplan() -> None:
    async def scenario(f: Floor) -> None:
        talker = f.phone("PJSIP/agent1001", answer_after=1.0, talk=None)
        await f.login("PJSIP/agent1001")
        talking, waiting, in_menu = (
            f.caller(keys={MENU: "1"}), f.caller(keys={MENU: "1"}), f.caller()
        )
        f.call(talking)
        await f.until(lambda: bool(talking.bridged_with))
        waiting_line = f.call(waiting)
        await f.until(lambda: waiting.held)
        in_menu_line = f.call(in_menu)
        await f.until(lambda: MENU in in_menu.heard)
        await f.controller.shutdown(grace=5.0)
        for caller in (waiting, in_menu):
            assert caller.heard[-1] == "sound:custom/acd-service-moving"
            assert caller.ended_by_pbx is not None  # the dialplan took over
        handed = {c[0] for c in f.pbx.asterisk.continued}
        assert handed == {waiting_line.channel_id, in_menu_line.channel_id}
        assert {c[1:] for c in f.pbx.asterisk.continued} == {("acd-fallback", "s")}
        assert f.controller.stats.handed_back == 2
        # The conversation goes on in Asterisk: nobody cut it.
        assert talking.ended_by_pbx is None and talker.ended_by_pbx == []

    run_live(site(), scenario)
