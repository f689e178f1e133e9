"""The ARI translator from tables, without sockets (the h11 way).

Each row is (the books before, an input) -> (what the engine hears, the ARI
operations asked for, the books after), where the input is an ARI event
(ari/translate.py `event`), an engine command (`command`), a request's outcome
(ari/jobs.py), or what Asterisk's lists say after a gap (ari/reconcile.py).
`carry_out` plays the executor's part (ari/controller.py `Controller._run`) with
scripted outcomes instead of a client, so a REST failure is a table row too. No test
here sleeps or reads a clock: `NOW` is an argument like any other.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from acd.ari import jobs, models, reconcile, settle, shutdown, translate
from acd.ari.books import Books, HangUpFeature
from acd.ari.brakes import Brakes
from acd.ari.effects import (
    Announce,
    AnswerCaller,
    Barge,
    Confirm,
    Deferred,
    Dial,
    Effect,
    Feed,
    Forget,
    HandBack,
    HangUpCaller,
    HoldCaller,
    Job,
    LegAnswered,
    LegEnded,
    Played,
    PlayPrompt,
    Quiet,
    Rebridge,
    Release,
    Report,
    Sample,
    Spawn,
    Stamp,
    Submit,
    Talk,
)
from acd.ari.legs import HOLD_PREFIX, TALK_PREFIX, CallLegs, leg_id, parse_leg_id, playback_id
from acd.ari.ops import (
    AddChannels,
    Answer,
    ContinueInDialplan,
    CreateBridge,
    DestroyBridge,
    Failure,
    GetChannel,
    Hangup,
    HoldingBridge,
    Originate,
    Play,
    RemoveChannels,
    Request,
    Snoop,
    WaitPlayback,
)
from acd.config.schema import SiteConfig
from acd.engine import Call, CallState
from acd.engine import commands as cmd
from acd.engine import events as ev
from tests.harness import site_from_yaml
from tests.test_boundaries import engine_problems

SITE = """
site: {name: table, utc_offset: "+09:00"}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor], music_on_hold: calm}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: "1001", endpoint: PJSIP/agent1001, pool: floor, skills: [{skill: gen, level: 3}]}
"""

NOW = 1_780_000_000.0
T = "2026-05-28T20:26:40.000+0000"
GONE = Failure(404, "/channels/x", "Channel not found", "POST /channels/x: 404 Channel not found")
BROKEN = Failure(500, "/channels/x", "Internal error", "POST /channels/x: 500 Internal error")
UNANSWERED = Failure(0, "/channels", "", "POST /channels: no answer")


# ------------------------------------------------------------------ the stand-ins


class View:
    """The engine's view as the translator reads it: its calls, and those ended."""

    def __init__(self, *calls: Call, ended: tuple[str, ...] = ()) -> None:
        self.calls: dict[str, Call] = {c.id: c for c in calls}
        self.ended = set(ended)

    def has_ended(self, call_id: str) -> bool:
        return call_id in self.ended


def site(extra: str = "") -> SiteConfig:
    return site_from_yaml(SITE + extra)


def make_books(*calls: Call, cfg: SiteConfig | None = None, ended: tuple[str, ...] = ()) -> Books:
    cfg = cfg or site()
    return Books(cfg, View(*calls, ended=ended), "acd", Brakes(cfg.live.admission))


def call(call_id: str = "c1", state: CallState = CallState.WAITING, **fields: object) -> Call:
    """The engine's call `call_id` in `state`, in queue gen; `fields` as the engine's."""
    made = Call(id=call_id, caller="0101234567", dnis="120", arrived_at=NOW, state=state)
    made.queue = "gen"
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def channel(
    channel_id: str,
    *,
    name: str = "PJSIP/trunk-00000001",
    state: str = "Up",
    app: str = "Stasis",
    app_data: str = "acd",
) -> models.Channel:
    return models.Channel(
        id=channel_id, protocol_id="", name=name, state=state,
        caller=models.CallerID(name="", number="0101234567"),
        connected=models.CallerID(name="", number=""), accountcode="",
        dialplan=models.DialplanCEP(
            context="acd-in", exten="120", priority=1, app_name=app, app_data=app_data
        ),
        creationtime=T, language="en",
    )


def stasis_start(channel_id: str, *args: str, name: str = "PJSIP/trunk-00000001") -> models.Event:
    return models.StasisStart(
        application="acd", timestamp=T, args=list(args), channel=channel(channel_id, name=name)
    )


def dtmf(channel_id: str, digit: str) -> models.Event:
    return models.ChannelDtmfReceived(
        application="acd", timestamp=T, digit=digit, duration_ms=100, channel=channel(channel_id)
    )


def stasis_end(channel_id: str) -> models.Event:
    return models.StasisEnd(application="acd", timestamp=T, channel=channel(channel_id))


def destroyed(channel_id: str, cause: int) -> models.Event:
    return models.ChannelDestroyed(
        application="acd", timestamp=T, cause=cause, cause_txt="", channel=channel(channel_id)
    )


def dial_status(channel_id: str, status: str) -> models.Event:
    return models.Dial(application="acd", timestamp=T, peer=channel(channel_id), dialstatus=status)


def playback_finished(playback: str) -> models.Event:
    return models.PlaybackFinished(
        application="acd", timestamp=T,
        playback=models.Playback(id=playback, media_uri="sound:x", target_uri="", state="done"),
    )


def bridge(bridge_id: str, *channels: str) -> models.Bridge:
    return models.Bridge(
        id=bridge_id, technology="simple_bridge", bridge_type="mixing", bridge_class="stasis",
        creator="acd", name=bridge_id, channels=list(channels), creationtime=T,
    )


# ------------------------------------------------------------------ the executor's part


def carry_out(
    books: Books, job: Job, outcomes: Mapping[Request, Failure] | None = None
) -> tuple[list[Request], list[Effect]]:
    """Run `job` as the executor does (`Controller._run`): `outcomes` says which
    requests Asterisk refuses and how, once each (the others, and a request sent
    again, succeed). Deferred effects are
    resolved in their place, as the executor resolves them. Returns the requests
    sent and the other effects, in order."""
    refusals = dict(outcomes or {})
    sent: list[Request] = []
    effects: list[Effect] = []
    outcome: Failure | None = None
    running = jobs.run(books, job)
    try:
        while True:
            step = running.send(outcome)
            outcome = None
            if isinstance(step, Request):
                sent.append(step)
                outcome = refusals.pop(step, None)
            else:
                effects += resolved(books, [step])
    except StopIteration:
        return sent, effects


def resolved(books: Books, effects: list[Effect]) -> list[Effect]:
    """`effects` with the deferred ones carried out in their place (settle.resume)."""
    out: list[Effect] = []
    for effect in effects:
        if isinstance(effect, Deferred):
            out += resolved(books, settle.resume(books, effect, NOW))
        else:
            out.append(effect)
    return out


def fed(effects: list[Effect]) -> list[ev.Event]:
    """What the engine hears."""
    return [e.event for e in effects if isinstance(e, Feed)]


def submitted(effects: list[Effect]) -> list[Job]:
    return [e.job for e in effects if isinstance(e, Submit | Spawn)]


def command(books: Books, c: cmd.Command) -> list[Effect]:
    return translate.command(books, c, NOW)


def event(books: Books, e: models.Event) -> list[Effect]:
    return translate.event(books, e, NOW)


# ------------------------------------------------------------------ the floor, as books


def caller_waiting(*, state: CallState = CallState.WAITING) -> Books:
    """Caller c1 arrived (its StasisStart translated) and the engine has call c1."""
    books = make_books(call("c1", state))
    event(books, stasis_start("c1"))
    return books


def agent_ringing() -> tuple[Books, str]:
    """Agent 1001 is being rung for c1: (the books, the agent leg's channel id)."""
    books = caller_waiting(state=CallState.OFFERED)
    command(books, cmd.RingAgent(
        call_id="c1", agent_id="1001", endpoint="PJSIP/agent1001", timeout=15.0,
        caller="0101234567", queue="gen",
    ))
    agent = books.calls["c1"].agent
    books.legs[agent].dialling = False  # the originate was answered
    return books, agent


def in_conversation() -> tuple[Books, str]:
    """Caller c1 talking to agent 1001 in the agent's own bridge."""
    books, agent = agent_ringing()
    books.engine.calls["c1"].state = CallState.CONNECTED
    event(books, stasis_start(agent, "agent", "c1"))
    [job] = submitted(command(books, cmd.Connect(call_id="c1", agent_id="1001")))
    carry_out(books, job)
    return books, agent


# ------------------------------------------------------------------ ARI events


def test_a_new_caller_is_a_call_for_the_engine() -> None:
    books = make_books()
    effects = event(books, stasis_start("c1"))
    assert effects == [
        Stamp("first_command", "c1"),
        Feed(ev.CallArrived(call_id="c1", caller="0101234567", dnis="120")),
    ]
    assert books.calls["c1"].caller == "c1" and books.legs["c1"].answered
    assert books.stats.calls == 1


def test_a_caller_past_the_brakes_hears_busy_and_the_engine_never_hears_of_them() -> None:
    cfg = site("live: {admission: {max_new_calls_per_second: 1, burst: 1}}\n")
    books = make_books(cfg=cfg)
    event(books, stasis_start("c1"))
    effects = event(books, stasis_start("c2"))
    assert effects == [Spawn(Quiet(Hangup("c2", "busy")))]
    assert "c2" not in books.calls and books.stats.turned_away == 1


def test_a_caller_arriving_during_shutdown_is_handed_to_the_dialplan_at_once() -> None:
    books = make_books()
    books.stopping = True
    effects = event(books, stasis_start("c1"))
    assert effects == [Spawn(Quiet(ContinueInDialplan("c1", "acd-fallback", "s")))]
    assert fed(effects) == [] and books.stats.calls == 0


def test_a_dtmf_on_an_unknown_channel_yields_no_engine_event_and_is_counted() -> None:
    books = make_books()
    assert event(books, dtmf("nobody", "1")) == []
    assert books.stats.stray_events == 1


def test_the_caller_pressing_a_key_is_a_digit_for_the_engine() -> None:
    books = caller_waiting()
    assert fed(event(books, dtmf("c1", "5"))) == [ev.DigitPressed(call_id="c1", digit="5")]


def test_the_agent_keying_the_abusive_code_flags_the_caller_once_the_code_is_complete() -> None:
    books, agent = in_conversation()
    assert event(books, dtmf(agent, "*")) == []
    assert fed(event(books, dtmf(agent, "9"))) == [
        ev.AgentFlaggedAbusive(agent_id="1001", call_id="c1")
    ]
    assert books.legs[agent].keys == ""  # the next code starts afresh


def test_the_agent_leg_answering_yields_agent_answered_and_bridges_the_caller() -> None:
    books, agent = agent_ringing()
    effects = event(books, stasis_start(agent, "agent", "c1"))
    assert effects == [
        Stamp("bridge", agent),
        Feed(ev.AgentAnswered(agent_id="1001", call_id="c1")),
    ]
    # The engine answers with Connect: the caller joins the agent's own bridge.
    own = f"{TALK_PREFIX}agent-1001"
    [job] = submitted(command(books, cmd.Connect(call_id="c1", agent_id="1001")))
    assert job == Talk("c1", agent, own, kept=True)
    sent, effects = carry_out(books, job)
    assert sent == [CreateBridge(own, "mixing,dtmf_events", own), AddChannels(own, ("c1", agent))]
    assert effects == [Sample("bridge", agent)]
    assert books.legs["c1"].bridge == books.legs[agent].bridge == own
    assert own in books.kept_bridges  # the next call costs one request


def test_a_second_stasis_start_of_an_answered_leg_is_no_news() -> None:
    books, agent = in_conversation()
    assert event(books, stasis_start(agent, "agent", "c1")) == []


def test_a_called_back_caller_answering_becomes_the_calls_line() -> None:
    books = caller_waiting(state=CallState.DIALING_BACK)
    command(books, cmd.DialCallback(
        call_id="c1", agent_id="1001", number="0101234567", endpoint="PJSIP/trunk/x",
        timeout=30.0, attempt=1,
    ))
    callback = books.calls["c1"].callback
    books.legs[callback].dialling = False
    effects = event(books, stasis_start(callback, "callback", "c1"))
    assert fed(effects) == [ev.CallbackAnswered(call_id="c1")]
    assert books.calls["c1"].caller == callback and books.calls["c1"].callback == ""
    # Their keys are the call's now, and so is their hanging up.
    assert fed(event(books, dtmf(callback, "1"))) == [ev.DigitPressed(call_id="c1", digit="1")]
    assert fed(event(books, stasis_end(callback))) == [ev.CallerHungUp(call_id="c1")]


def test_a_vendor_answering_is_bridged_at_once_in_a_bridge_of_its_own() -> None:
    books = caller_waiting(state=CallState.VENDOR_DIALING)
    command(books, cmd.DialVendor(
        call_id="c1", vendor="v1", endpoint="PJSIP/v1", timeout=30.0, caller="0101234567",
        queue="gen",
    ))
    vendor = books.calls["c1"].vendor
    effects = event(books, stasis_start(vendor, "vendor", "c1"))
    [talk] = submitted(effects)
    assert isinstance(talk, Talk) and not talk.kept and talk.bridge.startswith(TALK_PREFIX)
    assert fed(effects) == [ev.VendorAnswered(call_id="c1")]


@pytest.mark.parametrize(
    ("before", "end", "heard"),
    [
        pytest.param(
            [dial_status("A", "BUSY")], stasis_end("A"),
            ev.AgentMissed(agent_id="1001", call_id="c1", cause="busy"), id="busy",
        ),
        pytest.param(
            [], destroyed("A", 19),
            ev.AgentMissed(agent_id="1001", call_id="c1", cause="no_answer"), id="rang-out",
        ),
        pytest.param(
            [], destroyed("A", 21),
            ev.AgentMissed(agent_id="1001", call_id="c1", cause="declined"), id="declined",
        ),
        pytest.param(
            [stasis_start("A", "agent", "c1")], stasis_end("A"),
            ev.AgentHungUp(agent_id="1001", call_id="c1"), id="answered-then-hung-up",
        ),
    ],
)
def test_the_end_of_an_agent_leg_is_a_miss_with_asterisks_cause_or_a_hang_up(
    before: list[models.Event], end: models.Event, heard: ev.Event
) -> None:
    books, agent = agent_ringing()

    def named(e: models.Event) -> models.Event:
        # The tables name the agent's leg "A": its real id is made when it is rung.
        if isinstance(e, models.Dial):
            return dial_status(agent, e.dialstatus)
        if isinstance(e, models.StasisStart):
            return stasis_start(agent, *e.args)
        if isinstance(e, models.ChannelDestroyed):
            return destroyed(agent, e.cause)
        return stasis_end(agent)

    for e in before:
        event(books, named(e))
    assert heard in fed(event(books, named(end)))
    assert books.legs[agent].gone


def test_the_end_of_a_leg_the_engine_cancelled_is_no_news() -> None:
    books, agent = agent_ringing()
    [release] = command(books, cmd.CancelRing(call_id="c1", agent_id="1001"))
    assert release == Submit("c1", Release(agent))
    assert command(books, cmd.CancelRing(call_id="c1", agent_id="1001")) == []  # once
    assert fed(event(books, stasis_end(agent))) == []


def test_the_caller_hanging_up_ends_the_call_and_its_empty_talk_bridge_once() -> None:
    books = caller_waiting(state=CallState.VENDOR_CONNECTED)
    command(books, cmd.DialVendor(
        call_id="c1", vendor="v1", endpoint="PJSIP/v1", timeout=30.0, caller="", queue="gen",
    ))
    vendor = books.calls["c1"].vendor
    books.legs[vendor].dialling = False
    [talk] = submitted(event(books, stasis_start(vendor, "vendor", "c1")))
    assert isinstance(talk, Talk)
    carry_out(books, talk)
    event(books, stasis_end(vendor))  # the vendor left: the caller is still in it
    effects = event(books, stasis_end("c1"))
    assert fed(effects) == [ev.CallerHungUp(call_id="c1")]
    assert Submit("c1", Quiet(DestroyBridge(talk.bridge))) in effects
    assert event(books, destroyed("c1", 16)) == []  # the second report of the same end


def test_a_finished_call_is_forgotten_once_the_engine_is_done_with_it() -> None:
    books = caller_waiting()
    effects = event(books, stasis_end("c1"))
    assert effects[-1] == Forget("c1")
    settle.resume(books, Forget("c1"), NOW)
    assert "c1" in books.calls  # the engine still has the call
    assert isinstance(books.engine, View)
    del books.engine.calls["c1"]
    settle.resume(books, Forget("c1"), NOW)
    assert "c1" not in books.calls and "c1" not in books.legs


def test_an_agents_feature_call_logs_them_in_and_beeps_then_hangs_up() -> None:
    books = make_books()
    effects = event(books, stasis_start("f1", "login", name="PJSIP/agent1001-0000000a"))
    assert fed(effects) == [ev.AgentLogin(agent_id="1001")]
    [job] = submitted(effects)
    assert isinstance(job, Confirm) and job.prompt == ("sound:beep",)
    sent, _ = carry_out(books, job)
    assert sent == [Answer("f1"), Play("f1", ("sound:beep",), job.playback_id)]
    # The beep's end hangs the feature call up.
    assert books.after_playback[job.playback_id] == HangUpFeature("f1")
    assert event(books, playback_finished(job.playback_id)) == [
        Submit("f1", Quiet(Hangup("f1")))
    ]


def test_a_feature_call_from_a_phone_no_agent_has_is_answered_and_hung_up() -> None:
    books = make_books()
    effects = event(books, stasis_start("f1", "pause", name="PJSIP/stranger-00000001"))
    assert fed(effects) == []
    [job] = submitted(effects)
    assert carry_out(books, job)[0] == [Answer("f1"), Hangup("f1")]


def test_a_stranger_in_our_application_is_counted_and_hung_up() -> None:
    books = make_books()
    assert event(books, stasis_start("x1", "agent", "old")) == [Spawn(Quiet(Hangup("x1")))]
    assert books.stats.stray_events == 1


def test_the_end_of_a_prompt_the_engine_waits_for_is_prompt_finished() -> None:
    books = caller_waiting()
    command(books, cmd.Play(call_id="c1", media=["sound:hello"], prompt_id=7, language="en"))
    pb = playback_id("c1", 7)
    assert fed(event(books, playback_finished(pb))) == [
        ev.PromptFinished(call_id="c1", prompt_id=7)
    ]
    assert books.calls["c1"].playback == "" and event(books, playback_finished(pb)) == []


def test_events_that_are_no_news_for_the_engine_change_nothing() -> None:
    books = caller_waiting()
    e = models.ChannelStateChange(application="acd", timestamp=T, channel=channel("c1"))
    assert event(books, e) == [] and books.stats.stray_events == 0


# ------------------------------------------------------------------ engine commands


def test_a_prompt_is_played_to_the_caller_in_the_calls_lane() -> None:
    books = caller_waiting()
    c = cmd.Play(call_id="c1", media=["sound:a", "sound:b"], prompt_id=3, language="ko")
    pb = playback_id("c1", 3)
    [effect] = command(books, c)
    assert effect == Submit("c1", PlayPrompt("c1", ("sound:a", "sound:b"), pb, "ko", 3))
    assert books.playbacks[pb] == ("c1", 3) and pb in books.requested
    sent, effects = carry_out(books, effect.job)
    assert sent == [Play("c1", ("sound:a", "sound:b"), pb, "ko")]
    assert effects == [Sample("first_command", "c1")]
    assert pb not in books.requested  # it plays: the reconciliation may ask about it


def test_commands_for_a_call_the_controller_does_not_know_ask_for_nothing() -> None:
    books = make_books()
    unknown: list[cmd.Command] = [
        cmd.Answer(call_id="zz"),
        cmd.Play(call_id="zz", media=["sound:a"], prompt_id=1, language=""),
        cmd.Hold(call_id="zz", queue="gen", music_class="calm"),
        cmd.Connect(call_id="zz", agent_id="1001"),
        cmd.HangupCaller(call_id="zz"),
    ]
    for c in unknown:
        assert command(books, c) == [], c


def test_the_caller_is_answered_unless_they_hung_up_before_the_lane_got_there() -> None:
    books = caller_waiting()
    [effect] = command(books, cmd.Answer(call_id="c1"))
    assert effect == Submit("c1", AnswerCaller("c1"))
    books.legs["c1"].gone = True
    assert carry_out(books, effect.job) == ([], [])


def test_a_waiting_caller_joins_the_queues_holding_bridge_once() -> None:
    books = caller_waiting()
    [effect] = command(books, cmd.Hold(call_id="c1", queue="gen", music_class="calm"))
    assert effect == Submit("c1", HoldCaller("c1", "gen", "calm"))
    sent, _ = carry_out(books, effect.job)
    hold = HOLD_PREFIX + "gen"
    assert sent == [HoldingBridge("gen", "calm"), AddChannels(hold, ("c1",), "participant")]
    assert books.legs["c1"].bridge == hold
    assert carry_out(books, effect.job)[0] == []  # on hold already: nothing to ask


def test_the_wait_announcement_is_app_queues_sounds() -> None:
    books = caller_waiting()
    c = cmd.AnnounceWait(
        call_id="c1", queue="gen", position=3, expected_wait_seconds=200, language=""
    )
    [effect] = command(books, c)
    assert isinstance(effect, Submit) and isinstance(effect.job, Announce)
    assert effect.job.media == (
        "sound:queue-thereare", "number:3", "sound:queue-callswaiting",
        "sound:queue-holdtime", "number:4", "sound:queue-minutes",
    )
    nothing = cmd.AnnounceWait(
        call_id="c1", queue="gen", position=None, expected_wait_seconds=None, language=""
    )
    assert command(books, nothing) == []


def test_ringing_an_agent_originates_a_leg_named_after_the_call_and_agent() -> None:
    books = caller_waiting(state=CallState.OFFERED)
    [effect] = command(books, cmd.RingAgent(
        call_id="c1", agent_id="1001", endpoint="PJSIP/agent1001", timeout=15.0,
        caller="0101234567", queue="gen",
    ))
    agent = books.calls["c1"].agent
    assert parse_leg_id(agent) == ("agent", "c1", "1001")  # a successor can tell
    assert isinstance(effect, Submit) and isinstance(effect.job, Dial)
    assert books.legs[agent].dialling  # Asterisk may not list it yet
    sent, _ = carry_out(books, effect.job)
    assert sent == [Originate(
        "PJSIP/agent1001", agent, ("agent", "c1"), 15.0, '"ACD" <0101234567>', "c1",
        (("ACD_QUEUE", "gen"), ("ACD_CALL", "c1"), ("ACD_AGENT", "1001")),
    )]
    assert not books.legs[agent].dialling


def test_a_callback_is_dialled_from_the_number_the_caller_dialled() -> None:
    books = caller_waiting(state=CallState.DIALING_BACK)
    [effect] = command(books, cmd.DialCallback(
        call_id="c1", agent_id="1001", number="0101234567", endpoint="PJSIP/trunk/0101234567",
        timeout=30.0, attempt=1,
    ))
    assert isinstance(effect, Submit) and isinstance(effect.job, Dial)
    assert effect.job.caller_id == '"ACD" <120>'


def test_hanging_up_the_caller_also_hangs_up_a_callback_still_ringing() -> None:
    books = caller_waiting(state=CallState.DIALING_BACK)
    command(books, cmd.DialCallback(
        call_id="c1", agent_id="1001", number="0101234567", endpoint="PJSIP/trunk/x",
        timeout=30.0, attempt=1,
    ))
    callback = books.calls["c1"].callback
    effects = command(books, cmd.HangupCaller(call_id="c1", reason="normal"))
    assert submitted(effects) == [HangUpCaller(callback, "normal"), HangUpCaller("c1", "normal")]
    assert books.legs[callback].released  # its end is no callback failure


def test_supervising_a_call_without_an_agent_in_conversation_asks_for_nothing() -> None:
    books = caller_waiting()
    c = cmd.Supervise(call_id="c1", agent_id="1001", endpoint="PJSIP/sup", mode="listen")
    assert command(books, c) == [] and books.supervisions == {}


def test_listening_in_rings_the_supervisor_then_snoops_the_agents_leg() -> None:
    books, agent = in_conversation()
    c = cmd.Supervise(call_id="c1", agent_id="1001", endpoint="PJSIP/sup", mode="whisper")
    [ring] = submitted(command(books, c))
    assert isinstance(ring, Dial) and ring.endpoint == "PJSIP/sup"
    sup = ring.channel
    books.legs[sup].dialling = False
    [start] = submitted(event(books, stasis_start(sup, "supervisor", "c1")))
    sent, _ = carry_out(books, start)
    spy = books.supervisions[sup].bridge
    snoop = books.supervisions[sup].snoop
    assert sent == [
        CreateBridge(spy, "mixing", spy),
        AddChannels(spy, (sup,)),
        # whisper "out": what the agent's phone is sent, so only the agent hears it
        Snoop(agent, snoop, "both", "out", ("snoop", "c1")),
    ]
    # The conversation ending ends the supervision: both legs hung up, bridge gone.
    effects = event(books, stasis_end("c1"))
    assert Submit("c1", Release(sup)) in effects and Submit("c1", Release(snoop)) in effects
    assert Submit("c1", Quiet(DestroyBridge(spy))) in effects
    assert books.supervisions == {}


def test_a_barging_supervisor_joins_the_conversation_and_leaves_it_going_on() -> None:
    books, _ = in_conversation()
    own = f"{TALK_PREFIX}agent-1001"
    c = cmd.Supervise(call_id="c1", agent_id="1001", endpoint="PJSIP/sup", mode="barge")
    [ring] = submitted(command(books, c))
    assert isinstance(ring, Dial)
    sup = ring.channel
    books.legs[sup].dialling = False
    [join] = submitted(event(books, stasis_start(sup, "supervisor", "c1")))
    assert join == Barge("c1", sup, own, "barge")
    assert carry_out(books, join)[0] == [AddChannels(own, (sup,))]
    # The supervisor hanging up ends no conversation: nothing for the engine, and the
    # agent's bridge stays.
    effects = event(books, stasis_end(sup))
    assert fed(effects) == [] and books.calls["c1"].talk_bridge == own
    assert not any(isinstance(j, Quiet) for j in submitted(effects))


def test_call_outcomes_are_counted() -> None:
    books = make_books()
    c = cmd.CallOutcome(call_id="c1", outcome="answered", queue="gen", wait_seconds=3.0)
    assert command(books, c) == [] and books.stats.outcomes == {"answered": 1}


# ------------------------------------------------------------------ failures


def test_a_caller_gone_when_answered_is_a_hang_up() -> None:
    books = caller_waiting()
    sent, effects = carry_out(books, AnswerCaller("c1"), {Answer("c1"): GONE})
    assert sent == [Answer("c1")]
    assert fed(effects) == [ev.CallerHungUp(call_id="c1")]
    assert effects[0] == Report(logging.INFO, f"Answer failed: {GONE.text}", 404)
    assert effects[-1] == Sample("first_command", "c1")  # timed either way


def test_a_prompt_that_cannot_play_has_finished() -> None:
    books = caller_waiting()
    [effect] = command(books, cmd.Play(call_id="c1", media=["sound:x"], prompt_id=2, language=""))
    assert isinstance(effect, Submit)
    play = jobs.begin(books, effect.job)[0]
    assert isinstance(play, Play)
    _, effects = carry_out(books, effect.job, {play: BROKEN})
    assert fed(effects) == [ev.PromptFinished(call_id="c1", prompt_id=2)]
    assert Report(logging.WARNING, f"Play failed: {BROKEN.text}", 500) in effects
    assert books.stats.rest_failures == 1 and books.playbacks == {}


def test_a_prompt_whose_caller_is_gone_is_no_prompt_finished_but_a_hang_up() -> None:
    books = caller_waiting()
    [effect] = command(books, cmd.Play(call_id="c1", media=["sound:x"], prompt_id=2, language=""))
    assert isinstance(effect, Submit)
    play = jobs.begin(books, effect.job)[0]
    assert isinstance(play, Play)
    _, effects = carry_out(books, effect.job, {play: GONE})
    assert fed(effects) == [ev.CallerHungUp(call_id="c1")]


@pytest.mark.parametrize(
    ("kind", "failure", "heard", "also_sent"),
    [
        pytest.param(
            "agent", BROKEN,
            [ev.AgentMissed(agent_id="1001", call_id="c1", cause="unreachable")], [],
            id="agent-refused",
        ),
        pytest.param(
            "agent", UNANSWERED,
            [ev.AgentMissed(agent_id="1001", call_id="c1", cause="unreachable")],
            ["hangup"], id="agent-unanswered-may-exist",
        ),
        pytest.param(
            "agent", Failure(400, "/channels", "Provided originator channel was not found"),
            [], [], id="caller-left-meanwhile",
        ),
        pytest.param(
            "vendor", BROKEN, [ev.VendorFailed(call_id="c1", cause="unreachable")], [],
            id="vendor-refused",
        ),
        pytest.param(
            "callback", BROKEN, [ev.CallbackFailed(call_id="c1", cause="unreachable")], [],
            id="callback-refused",
        ),
    ],
)
def test_a_failed_originate_is_a_miss_or_a_failure(
    kind: str, failure: Failure, heard: list[ev.Event], also_sent: list[str]
) -> None:
    state = {"agent": CallState.OFFERED, "vendor": CallState.VENDOR_DIALING}.get(
        kind, CallState.DIALING_BACK
    )
    books = caller_waiting(state=state)
    orders: dict[str, cmd.Command] = {
        "agent": cmd.RingAgent(
            call_id="c1", agent_id="1001", endpoint="PJSIP/agent1001", timeout=15.0,
            caller="", queue="gen",
        ),
        "vendor": cmd.DialVendor(
            call_id="c1", vendor="v1", endpoint="PJSIP/v1", timeout=30.0, caller="", queue="gen",
        ),
        "callback": cmd.DialCallback(
            call_id="c1", agent_id="1001", number="1", endpoint="PJSIP/t/1", timeout=30.0,
            attempt=1,
        ),
    }
    [job] = submitted(command(books, orders[kind]))
    assert isinstance(job, Dial)
    [originate] = jobs.begin(books, job)
    assert isinstance(originate, Originate)
    sent, effects = carry_out(books, job, {originate: failure})
    assert fed(effects) == heard
    assert sent[1:] == ([Hangup(job.channel)] if also_sent else [])
    assert books.legs.get(job.channel) is None or books.legs[job.channel].gone


def test_a_bridge_a_leg_left_first_is_asked_which_one_and_the_gone_one_ends_the_call() -> None:
    books, agent = agent_ringing()
    event(books, stasis_start(agent, "agent", "c1"))
    [job] = submitted(command(books, cmd.Connect(call_id="c1", agent_id="1001")))
    assert isinstance(job, Talk)
    left = Failure(422, f"/bridges/{job.bridge}/addChannel", "Channel not in Stasis application")
    outcomes: dict[Request, Failure] = {
        AddChannels(job.bridge, ("c1", agent)): left,
        GetChannel("c1"): GONE,
    }
    sent, effects = carry_out(books, job, outcomes)
    assert sent[-2:] == [GetChannel("c1"), GetChannel(agent)]
    assert fed(effects) == [ev.CallerHungUp(call_id="c1")]
    assert books.stats.rest_failures == 0  # somebody hanging up is nobody's failure


def test_an_agents_kept_bridge_found_gone_is_made_again() -> None:
    books, agent = agent_ringing()
    own = f"{TALK_PREFIX}agent-1001"
    books.kept_bridges.add(own)  # made for an earlier call; Asterisk restarted since
    event(books, stasis_start(agent, "agent", "c1"))
    [job] = submitted(command(books, cmd.Connect(call_id="c1", agent_id="1001")))
    gone_bridge = Failure(404, f"/bridges/{own}/addChannel", "Bridge not found")
    add = AddChannels(own, ("c1", agent))
    sent, _ = carry_out(books, job, {add: gone_bridge})
    assert sent == [add, CreateBridge(own, "mixing,dtmf_events", own), add]
    assert books.legs["c1"].bridge == own


def test_a_bridge_nobody_could_be_put_in_is_destroyed() -> None:
    books = caller_waiting(state=CallState.VENDOR_DIALING)
    command(books, cmd.DialVendor(
        call_id="c1", vendor="v1", endpoint="PJSIP/v1", timeout=30.0, caller="", queue="gen",
    ))
    vendor = books.calls["c1"].vendor
    books.legs[vendor].dialling = False
    [job] = submitted(event(books, stasis_start(vendor, "vendor", "c1")))
    assert isinstance(job, Talk)
    sent, effects = carry_out(books, job, {AddChannels(job.bridge, ("c1", vendor)): BROKEN})
    assert sent[-1] == DestroyBridge(job.bridge) and books.calls["c1"].talk_bridge == ""
    assert next(e for e in effects if isinstance(e, Report)).level == logging.WARNING


@pytest.mark.parametrize(
    ("failure", "counted"), [(GONE, 0), (BROKEN, 1), (UNANSWERED, 1)]
)
def test_a_quiet_request_failing_is_counted_unless_what_it_acted_on_was_gone(
    failure: Failure, counted: int
) -> None:
    books = make_books()
    _, effects = carry_out(books, Quiet(Hangup("x")), {Hangup("x"): failure})
    assert books.stats.rest_failures == counted
    assert effects == ([Report(logging.WARNING, failure.text, failure.status)] if counted else [])


@pytest.mark.parametrize(("failure", "then"), [(GONE, []), (BROKEN, [Hangup("f1")])])
def test_a_feature_call_that_cannot_be_answered_is_hung_up_unless_gone(
    failure: Failure, then: list[Request]
) -> None:
    books = make_books()
    [job] = submitted(event(books, stasis_start("f1", "ready", name="PJSIP/agent1001-1")))
    sent, _ = carry_out(books, job, {Answer("f1"): failure})
    assert sent == [Answer("f1"), *then]
    assert books.after_playback == {}


# ------------------------------------------------------------------ reconciliation


def test_idle_bridges_are_ours_empty_and_serving_no_call() -> None:
    books = caller_waiting()
    books.calls["c1"].talk_bridge = f"{TALK_PREFIX}busy"
    bridges = [
        bridge(f"{TALK_PREFIX}old"),  # its conversation ended while nobody watched
        bridge(f"{TALK_PREFIX}busy"),  # c1 is being bridged in it
        bridge(f"{TALK_PREFIX}full", "c9"),  # somebody is in it
        bridge(f"{HOLD_PREFIX}gen"),  # the queue's, still configured
        bridge(f"{HOLD_PREFIX}gone"),  # a queue no longer configured
        bridge("someone-elses"),
    ]
    assert reconcile.idle_bridges(books, bridges, holding=False) == [
        f"{TALK_PREFIX}old", f"{HOLD_PREFIX}gone",
    ]
    assert f"{HOLD_PREFIX}gen" in reconcile.idle_bridges(books, bridges, holding=True)


def test_adopting_an_engine_calls_caller_and_a_leg_of_a_call_that_is_over() -> None:
    books = make_books(call("c1"))
    assert reconcile.adopt(books, channel("c1"), f"{HOLD_PREFIX}gen", NOW) == []
    assert books.calls["c1"].caller == "c1" and books.legs["c1"].bridge == f"{HOLD_PREFIX}gen"
    stale = leg_id("agent", "9-9", "c0", "1001")
    assert reconcile.adopt(books, channel(stale), "", NOW) == [Spawn(Quiet(Hangup(stale)))]
    assert books.stats.stray_events == 1


@pytest.mark.parametrize(
    ("ch", "ended", "expected"),
    [
        pytest.param(
            channel("s1"), (),
            [Feed(ev.CallArrived(call_id="s1", caller="0101234567", dnis="120"))],
            id="a-caller-we-never-heard-of-is-served",
        ),
        pytest.param(channel("s1"), ("s1",), [Spawn(Quiet(Hangup("s1")))], id="ended-call"),
        pytest.param(channel("s1", app_data="other"), (), [], id="another-applications"),
        pytest.param(channel("s1", app="Dial"), (), [], id="not-in-stasis"),
    ],
)
def test_a_stranger_in_our_application_is_adopted(
    ch: models.Channel, ended: tuple[str, ...], expected: list[Effect]
) -> None:
    books = make_books(ended=ended)
    effects = [e for e in reconcile.adopt(books, ch, "", NOW) if not isinstance(e, Stamp)]
    assert effects == expected


def test_legs_that_vanished_end_and_legs_found_up_have_answered() -> None:
    books, agent = agent_ringing()
    channels = {"c1": channel("c1"), agent: channel(agent, state="Up")}
    hold = f"{HOLD_PREFIX}gen"
    diff = reconcile.settle_legs(books, channels, {"c1": hold})
    assert diff == [Rebridge("c1", hold), LegAnswered(agent)]
    assert fed(resolved(books, diff)) == [ev.AgentAnswered(agent_id="1001", call_id="c1")]
    diff = reconcile.settle_legs(books, {"c1": channel("c1")}, {"c1": hold})
    assert diff == [LegEnded(agent)] and books.stats.reconciled_gone == 1


def test_a_legs_being_dialled_are_not_settled() -> None:
    books, agent = agent_ringing()
    books.legs[agent].dialling = True
    assert reconcile.settle_legs(books, {"c1": channel("c1")}, {}) == []


def test_a_caller_the_engine_expects_and_asterisk_lacks_has_hung_up() -> None:
    books = make_books(call("c1"))
    effects, go_on = reconcile.missing_legs(books, "c1", {}, NOW)
    assert fed(effects) == [ev.CallerHungUp(call_id="c1")] and not go_on
    assert books.stats.reconciled_gone == 1


def test_a_waiting_caller_not_on_hold_is_put_on_hold_unless_its_lane_is_busy() -> None:
    books = caller_waiting()
    assert reconcile.missing_legs(books, "c1", {"c1": channel("c1")}, NOW) == ([], True)
    assert reconcile.repair(books, "c1", busy=True, now=NOW) == []
    assert submitted(reconcile.repair(books, "c1", busy=False, now=NOW)) == [
        HoldCaller("c1", "gen", "calm")
    ]


def test_a_prompt_whose_playback_asterisk_lacks_has_finished() -> None:
    books = make_books(call("c1", CallState.IVR, prompt_id=4, prompt_kind="menu"))
    books.calls["c1"] = CallLegs(call_id="c1")
    pb = playback_id("c1", 4)
    assert reconcile.waited_prompts(books) == [pb]  # named by the engine's own numbers
    assert reconcile.prompt_gone(books, pb) == [Feed(ev.PromptFinished(call_id="c1", prompt_id=4))]
    assert reconcile.prompt_gone(books, pb) == []  # once


# ------------------------------------------------------------------ shutdown


def test_shutdown_tells_waiting_callers_and_hands_them_back_cancelling_their_ring() -> None:
    books, agent = agent_ringing()
    hold = f"{HOLD_PREFIX}gen"
    books.legs["c1"].bridge = hold
    releases, hand_backs = shutdown.hand_back(books, NOW)
    assert releases == [Submit("c1", Release(agent))]
    [(lane, job)] = hand_backs
    assert lane == "c1" and isinstance(job, HandBack)
    sent, effects = carry_out(books, job)
    assert sent == [
        RemoveChannels(hold, ("c1",)),
        Play("c1", ("sound:custom/acd-service-moving",), job.playback_id),
        WaitPlayback(job.playback_id, jobs.HAND_BACK_PROMPT_SECONDS),
        ContinueInDialplan("c1", "acd-fallback", "s"),
    ]
    assert fed(effects) == [] and books.stats.handed_back == 1 and books.stopping
    # Its prompt's end is what the executor waits for.
    assert event(books, playback_finished(job.playback_id)) == [Played(job.playback_id)]


def test_a_handed_back_caller_whose_prompt_fails_still_leaves_no_further() -> None:
    books = caller_waiting()
    [(_, job)] = shutdown.hand_back(books, NOW)[1]
    play = Play("c1", ("sound:custom/acd-service-moving",), job.playback_id)
    sent, _ = carry_out(books, job, {play: BROKEN})
    assert sent == [play]  # logged; the caller's line is Asterisk's again at our exit


def test_a_deferred_step_about_a_leg_forgotten_meanwhile_is_nothing() -> None:
    books = caller_waiting()
    steps: list[Deferred] = [LegAnswered("zz"), LegEnded("zz"), Rebridge("zz", "b"), Forget("zz")]
    assert [settle.resume(books, step, NOW) for step in steps] == [[], [], [], []]


# ------------------------------------------------------------------ sans-IO


TRANSLATOR = [
    "books", "effects", "jobs", "ops", "reconcile", "settle", "shutdown", "supervise",
    "translate",
]
"""The translator's modules: ari/controller.py, ari/lanes.py and the client are the IO."""


@pytest.mark.parametrize("name", TRANSLATOR)
def test_the_translator_reads_no_clock_and_does_no_io(name: str) -> None:
    path = Path(__file__).resolve().parent.parent / "ari" / f"{name}.py"
    assert engine_problems(path) == []


def test_the_translator_loads_no_event_loop_client_or_clock() -> None:
    io = ["asyncio", "aiohttp", "socket", "acd.ari.client", "acd.ari.clock", "acd.ari.lanes"]
    code = (
        "import sys\n"
        + "".join(f"import acd.ari.{name}\n" for name in TRANSLATOR)
        + f"print([m for m in {io!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
