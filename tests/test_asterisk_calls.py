"""Calls through a real Asterisk 22 with `acd serve` attached (tests/lab.py): SIPp
callers dial the site's number, walk the IVR with their keys, wait, talk to the SIPp
phone of the agent the engine chose; each test checks what the people lived (their
phones' logs), what the engine counted, and that Asterisk is left with no channel
and no bridge of ours."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from acd.ari import models
from acd.ari.client import AriClient, AriError
from tests.asterisk import PASSWORD, READ_ONLY_USER, USER
from tests.lab import SITE, Lab, until
from tests.redis_server import RedisServer
from tests.sipp import Key


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with Lab(tmp_path) as floor:
        yield floor


def _site_with(lab: Lab, name: str, extra_queue: str = "", extra: str = "") -> Path:
    """The lab site with more lines in its queue (`extra_queue`) and at its end."""
    text = SITE.read_text()
    if extra_queue:
        text = text.replace(
            '    join_prompt: ["sound:queue-thankyou"]',
            '    join_prompt: ["sound:queue-thankyou"]\n' + extra_queue,
        )
    site = lab.home / name
    site.write_text(text + extra)
    return site


def test_caller_presses_1_and_talks_to_the_agent_and_nothing_is_left(lab: Lab) -> None:
    agent = lab.phone("1001", answer_after=1.0, talk=3.0)
    lab.start_engine()
    lab.login("1001")
    caller = lab.call(keys=(Key("1", after=1.0),))
    caller.wait_for("1 ended by far end")  # the agent hung up; the engine ended the call
    assert caller.log() == ["1 answered", "1 pressed 1", "1 ended by far end"]
    assert agent.log()[1:] == ["1 answered", "1 hung up"]
    # The agent's phone showed the caller's number (live.caller_id unset).
    assert "01012345678" in agent.log()[0]
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"answered": 1}
    # Nothing of ours outlives the engine: not the queue's holding bridge either.
    assert lab.bridges() == []


def test_keys_by_sip_info_and_the_caller_hangs_up_first(lab: Lab) -> None:
    agent = lab.phone("1001", answer_after=1.0, talk=None)
    lab.start_engine()
    lab.login("1001")
    caller = lab.call(keys=(Key("1", after=1.0, info=True),), patience=8.0)
    caller.wait_for("1 hung up")
    agent.wait_for("1 ended by far end")  # the engine hung the agent up after the caller
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"answered": 1}
    assert lab.bridges() == []


def test_a_caller_who_gives_up_on_hold_is_an_abandon(lab: Lab) -> None:
    queue_log = lab.home / "queue_log"
    lab.start_engine(SITE, "--queue-log", str(queue_log))  # nobody logged in: the caller waits
    caller = lab.call(keys=(Key("1", after=1.0),), patience=6.0)
    caller.wait_for("1 hung up")
    lab.until_no_channels()
    # Asterisk forgets the channel before the engine has heard of its end: the
    # engine's own record of the abandon is the signal that it has.
    until(lambda: queue_log.exists() and "|ABANDON|" in queue_log.read_text(),
          "the abandon in the engine's queue_log")
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"abandoned": 1}
    assert lab.bridges() == []


def test_serve_as_a_read_only_ari_user_stops_at_once_and_says_why(lab: Lab) -> None:
    """A user `read_only = yes` in ari.conf gets events but may not answer a call:
    `acd serve` says so in one line at start instead of failing every caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACD_ARI")}
    env.update(ACD_ARI_USER=READ_ONLY_USER, ACD_ARI_PASSWORD=PASSWORD)
    done = subprocess.run(
        [sys.executable, "-m", "acd.cli.main", "serve", str(SITE),
         "--ari-url", lab.asterisk.ari_url],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last == (
        f"acd serve: --ari-url {lab.asterisk.ari_url}: Asterisk refused user 'watcher' "
        "control of calls (HTTP 403 on DELETE /ari/playbacks/acd-write-access-probe: "
        "Write access denied): in ari.conf the user needs read_only = no"
    ), done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr
    assert not lab.app_registered()  # nothing of ours is left listening


def test_a_missed_ring_goes_to_the_next_agent(lab: Lab) -> None:
    sleepy = lab.phone("1001", answer_after=None)  # rings until cancelled
    awake = lab.phone("1002", answer_after=1.0, talk=2.0)
    lab.start_engine()
    lab.login("1001")
    caller = lab.call(keys=(Key("1", after=1.0),), patience=90.0)
    sleepy.wait_for("1 cancelled")  # the 6 s ring timeout
    lab.login("1002")
    caller.wait_for("1 ended by far end")
    assert awake.log()[1:] == ["1 answered", "1 hung up"]
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"answered": 1}


def test_a_busy_phone_is_a_miss_and_the_call_waits_for_the_next(lab: Lab) -> None:
    busy = lab.phone("1001", busy=True)
    free = lab.phone("1002", answer_after=1.0, talk=2.0)
    lab.start_engine()
    lab.login("1001", "1002")
    caller = lab.call(keys=(Key("1", after=1.0),), patience=90.0)
    caller.wait_for("1 ended by far end")
    assert free.log()[1:] == ["1 answered", "1 hung up"]
    # Whoever was rung first: a busy phone never took the call.
    assert all(step.endswith(("busy",)) or "ringing" in step for step in busy.log())
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"answered": 1}


def test_a_callback_presents_the_centres_number_not_its_name(lab: Lab) -> None:
    site = _site_with(
        lab, "callback.yaml",
        extra_queue="    callback: {when_expected_wait_over_seconds: 0, digit: '1', "
        "offer_prompt: ['sound:queue-callswaiting'], confirm_prompt: ['sound:vm-goodbye']}",
    )
    citizen = lab.citizen(answer_after=1.0, talk=None)
    agent = lab.phone("1001", answer_after=1.0, talk=2.0)
    lab.start_engine(site)
    # The offer's "1" by SIP INFO: a second RFC 2833 "1" from the same capture repeats
    # the first one's RTP timestamp, and Asterisk drops it as a duplicate.
    caller = lab.call(keys=(Key("1", after=1.0), Key("1", after=4.0, info=True)),
                      number="01099998888")
    caller.wait_for("1 ended by far end")  # confirmed, then hung up by the engine
    lab.login("1001")
    citizen.wait_for("1 answered")
    agent.wait_for("1 hung up")
    citizen.wait_for("1 ended by far end")
    ringing = citizen.log()[0]
    # The citizen sees the number they called (the DNIS, 120), not "asterisk-lab".
    assert "<sip:120@" in ringing, ringing
    assert "asterisk-lab" not in ringing
    lab.until_no_channels()
    lab.stop_engine()
    assert lab.bridges() == []


def test_stopping_a_playback_that_has_just_finished_is_not_an_error(lab: Lab) -> None:
    """DELETE /playbacks/{id} right after the playback ended is never an error: Asterisk
    22 answers 204 while the ended playback is still listed (res_stasis_playback.c:
    STOP on a COMPLETE playback is a no-op, and the playback leaves the list a moment
    after its PlaybackFinished), then 404, or 500 "Could not stop playback"; the
    client reports the last two as gone."""

    async def scenario() -> None:
        async with AriClient(lab.asterisk.ari_url, USER, PASSWORD, app="acd") as client:
            started: asyncio.Queue[str] = asyncio.Queue()
            finished = asyncio.Event()

            async def listen() -> None:
                async for event in client.events():
                    if isinstance(event, models.StasisStart):
                        await started.put(event.channel.id)
                    elif isinstance(event, models.PlaybackFinished):
                        finished.set()

            listener = asyncio.create_task(listen())
            await asyncio.get_running_loop().run_in_executor(
                None, until, lab.app_registered, "the test's ARI application registered"
            )
            caller = lab.call(patience=30.0)
            channel = await asyncio.wait_for(started.get(), 30)
            await client.answer(channel)
            await client.play(channel, ["sound:beep"], playback_id="pb-just-ended")
            await asyncio.wait_for(finished.wait(), 30)
            try:
                await client.stop_playback("pb-just-ended")
            except AriError as refused:
                assert refused.gone, refused
            await client.hangup(channel, "normal")
            listener.cancel()
            caller.wait_for("1 ended by far end")

    asyncio.run(scenario())


def test_past_the_admission_cap_callers_hear_busy_and_the_first_is_served(lab: Lab) -> None:
    site = _site_with(
        lab, "brakes.yaml", extra="live: {admission: {max_new_calls_per_second: 0.01, burst: 1}}\n"
    )
    agent = lab.phone("1001", answer_after=1.0, talk=2.0)
    lab.start_engine(site)
    lab.login("1001")
    callers = [lab.call(keys=(Key("1", after=1.0),)) for _ in range(3)]
    def settled() -> bool:
        return all(
            any(step.endswith(("busy", "ended by far end")) for step in c.log()) for c in callers
        )

    until(settled, "every caller served or turned away")
    logs = sorted(c.log()[-1] for c in callers)
    assert logs == ["1 busy", "1 busy", "1 ended by far end"], logs
    assert agent.log()[1:] == ["1 answered", "1 hung up"]
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["turned_away"] == 2
    assert stats["controller"]["outcomes"] == {"answered": 1}
    assert lab.bridges() == []


def test_an_engine_killed_mid_call_is_replaced_and_nothing_is_left(
    lab: Lab, redis_server: RedisServer
) -> None:
    """SIGKILL `acd serve` (state in Redis) while one caller talks and one waits: the
    conversation goes on in Asterisk, a new engine carries on from Redis, the waiting
    caller is served after, and at the end Asterisk holds nothing of ours."""
    agent = lab.phone("1001", answer_after=1.0, talk=8.0)
    lab.start_engine(SITE, "--redis", redis_server.url, "--lease-ms", "1500")
    lab.login("1001")
    talking = lab.call(keys=(Key("1", after=1.0),), number="01011112222")
    agent.wait_for("1 answered")
    waiting = lab.call(keys=(Key("1", after=1.0),), number="01033334444", patience=120.0)
    # Killed once the store says the caller waits (what is not yet journalled when an
    # engine dies is lost with it: the caller would be back in the menu).
    store = redis.Redis.from_url(redis_server.url)
    until(lambda: store.zcard("acd:{asterisk-lab}:waiting:gen") == 1, "the caller waits")
    store.close()
    lab.kill_engine()
    assert "1 ended by far end" not in talking.log()  # nobody noticed
    lab.start_engine(SITE, "--redis", redis_server.url, "--lease-ms", "1500")
    talking.wait_for("1 ended by far end")  # the agent hung up after 8 s of talk
    waiting.wait_for("1 ended by far end", within=90)
    assert agent.log().count("2 answered") == 1  # the waiting caller, by the same agent
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["engine"]["totals"]["answered"] == 2
    assert lab.bridges() == []


def test_a_loaded_run_leaves_nothing_behind(lab: Lab) -> None:
    """Thirty callers in five seconds for three agents: some talk, some give up on
    hold; every one has one outcome, and Asterisk is left with no channel and no
    bridge once the engine stops."""
    for agent in ("1001", "1002", "1003"):
        lab.phone(agent, answer_after=0.5, talk=1.0)
    lab.start_engine()
    lab.login("1001", "1002", "1003")
    before = (lab.channels(), lab.bridges())
    callers = lab.calls(30, rate=6.0, keys=(Key("1", after=0.5),), patience=4.0)
    callers.process.wait(timeout=120)
    steps = callers.log()
    ended = [s for s in steps if s.endswith(("ended by far end", "hung up"))]
    assert len(ended) == 30, steps
    lab.until_no_channels()
    stats = lab.stop_engine()
    outcomes = stats["controller"]["outcomes"]
    assert sum(outcomes.values()) == 30 and outcomes.get("answered", 0) > 0, outcomes
    assert before == ([], [])
    assert lab.bridges() == []


def test_nobody_free_the_vendor_trunk_takes_the_caller(lab: Lab) -> None:
    site = _site_with(
        lab, "vendor.yaml",
        extra_queue="    overflow: [{vendors: [va], when: {waited_over_seconds: 3}}]",
        extra="vendors:\n  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 2,"
              " ring_timeout_seconds: 20}\n",
    )
    vendor = lab.vendor(answer_after=1.0, talk=2.0)
    lab.start_engine(site)  # nobody logged in: after 3 s waiting, vendor A
    caller = lab.call(keys=(Key("1", after=1.0),), number="01055556666")
    caller.wait_for("1 ended by far end")
    assert vendor.log()[1:] == ["1 answered", "1 hung up"]
    assert "01055556666" in vendor.log()[0]  # the vendor's agents see who calls
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"vendor_answered": 1}
    assert lab.bridges() == []


def test_an_unreachable_phone_is_a_miss_and_the_next_agent_answers(lab: Lab) -> None:
    # Agent 1001's phone is off: nothing listens where its AOR points.
    awake = lab.phone("1002", answer_after=1.0, talk=2.0)
    lab.start_engine()
    lab.login("1001", "1002")
    caller = lab.call(keys=(Key("1", after=1.0),), patience=90.0)
    caller.wait_for("1 ended by far end")
    assert awake.log()[1:] == ["1 answered", "1 hung up"]
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"answered": 1}


def test_an_agent_flags_an_abusive_caller_who_is_warned_and_disconnected(lab: Lab) -> None:
    # By SIP INFO: two RFC 2833 captures replayed one after the other share their RTP
    # timestamps, and Asterisk drops the second as a repeat of the first.
    agent = lab.phone("1001", answer_after=0.5, talk=None,
                      keys=(Key("*", after=1.0, info=True), Key("9", after=0.3, info=True)))
    lab.start_engine()
    lab.login("1001")
    caller = lab.call(keys=(Key("1", after=1.0),), patience=60.0)
    agent.wait_for("1 ended by far end")  # the agent's leg went first
    caller.wait_for("1 ended by far end")  # then the caller, after the warning
    assert "abusive-caller-warning" in [sound for sound, _ in lab.asterisk.played()]
    lab.until_no_channels()
    stats = lab.stop_engine()
    assert stats["controller"]["outcomes"] == {"answered": 1}


def test_at_shutdown_a_waiting_caller_is_told_and_handed_to_the_dialplan(lab: Lab) -> None:
    lab.start_engine()  # nobody logged in: the caller waits
    caller = lab.call(keys=(Key("1", after=1.0),), patience=60.0)
    until(lambda: "queue-thankyou" in [s for s, _ in lab.asterisk.played()], "in the queue")
    stats = lab.stop_engine()
    assert stats["controller"]["handed_back"] == 1
    # The engine's goodbye, then the sample dialplan's [acd-fallback]: a polite
    # goodbye from Asterisk itself, and a hang-up.
    caller.wait_for("1 ended by far end")
    played = [sound for sound, _ in lab.asterisk.played()]
    assert played.index("custom/acd-service-moving") < played.index("vm-goodbye")
    lab.until_no_channels()
    assert lab.bridges() == []


def test_a_snoop_on_a_live_call_enters_stasis_as_a_snoop_channel(lab: Lab) -> None:
    """What the controller's listen and whisper count on (ari/controller.py): POST
    /channels/{id}/snoop with a snoopId answers the new channel, which enters the
    application (StasisStart with the appArgs) as `Snoop/<uniqueid>-...`, and ends by
    itself (StasisEnd) when the channel it spies on hangs up."""

    async def scenario() -> None:
        async with AriClient(lab.asterisk.ari_url, USER, PASSWORD, app="acd") as client:
            started: asyncio.Queue[models.StasisStart] = asyncio.Queue()
            ended: asyncio.Queue[str] = asyncio.Queue()

            async def listen() -> None:
                async for event in client.events():
                    if isinstance(event, models.StasisStart):
                        await started.put(event)
                    elif isinstance(event, models.StasisEnd):
                        await ended.put(event.channel.id)

            listener = asyncio.create_task(listen())
            await asyncio.get_running_loop().run_in_executor(
                None, until, lab.app_registered, "the test's ARI application registered"
            )
            # The caller hangs up by itself a few seconds after the answer: a BYE from
            # Asterisk that early could reach SIPp before its scenario waits for one.
            caller = lab.call(patience=5.0)
            channel = (await asyncio.wait_for(started.get(), 30)).channel.id
            await client.answer(channel)
            snoop = await client.snoop(
                channel, snoop_id="acd-snoop-test", spy="both", whisper="out",
                app_args=["snoop", channel],
            )
            assert snoop.id == "acd-snoop-test" and snoop.name.startswith(f"Snoop/{channel}-")
            entered = await asyncio.wait_for(started.get(), 30)
            assert entered.channel.id == "acd-snoop-test"
            assert list(entered.args) == ["snoop", channel]
            with pytest.raises(AriError) as missing:
                await client.snoop("no-such-channel", snoop_id="x", app_args=[])
            assert missing.value.status == 404
            gone = {await asyncio.wait_for(ended.get(), 30) for _ in range(2)}
            assert gone == {channel, "acd-snoop-test"}
            listener.cancel()
            caller.wait_for("1 hung up")

    asyncio.run(scenario())
