"""The queue_log as the reporting tools read it: each call story told through the engine
gives, field by field, the lines Asterisk 22's app_queue writes for the same story.

The expected lines are written by hand from app_queue.c's `ast_queue_log()` formats
(see `acd.queue_log.lines`), with the times of the story: whole epoch seconds as
`time(NULL)` gives them, durations as their differences, ring times in
milliseconds. Stories start at 1780000000.4 (2026-05-28 20:26:40.4 UTC), so a
fraction of a second is cut from every time as Asterisk cuts it.

The floor: callers reach `support` at once (no menu); agent 1001 (PJSIP/1001) serves
`support` and `sales`, 1002 (PJSIP/1002) `support` only. Rings time out after 15 s,
wrap-up is 30 s, two missed rings in a row pause an agent (one rests them 5 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from acd.cli.main import main
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.queue_log.file import QueueLog, QueueLogFile
from acd.queue_log.lines import QueueLogLines
from acd.softphone_sim.curves import Curve, write_curve
from tests.harness import Floor

T0 = 1_780_000_000.4

SITE = """
site: {name: qlog, utc_offset: "+09:00"}
skills: {gen: {}, sales: {}}
pools: {floor: {kind: in_house}}
vendors:
  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 1}
queues:
  support:
    skill: gen
    pools: [floor]
    wrap_up_seconds: 30
    ring_timeout_seconds: 15
  sales: {skill: sales, pools: [floor]}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: support}}
missed_ring: {pause_after: 2, rest_seconds: 5}
agents:
  - id: "1001"
    endpoint: PJSIP/1001
    pool: floor
    skills: [{skill: gen, level: 3}, {skill: sales, level: 3}]
  - {id: "1002", endpoint: PJSIP/1002, pool: floor, skills: [{skill: gen, level: 3}]}
"""

OVERFLOW = SITE.replace(
    "    ring_timeout_seconds: 15\n",
    "    ring_timeout_seconds: 15\n"
    "    overflow: [{vendors: [va], when: {waited_over_seconds: 60}}]\n",
)
"""Callers who waited 60 s go to the vendor's trunk."""

CALLBACK = SITE.replace(
    "    ring_timeout_seconds: 15\n",
    "    ring_timeout_seconds: 15\n"
    "    callback:\n"
    "      when_expected_wait_over_seconds: 100\n"
    '      digit: "1"\n'
    "      max_attempts: 2\n"
    "      retry_after_seconds: 300\n"
    "      ring_timeout_seconds: 30\n",
)
"""Every caller is offered a callback on joining (the expected wait, 180 s + 30 s of
wrap-up per caller ahead before any call is handled, is over 100 s); two tries,
300 s apart, each ringing 30 s."""

PROTECTED = SITE.replace(
    "    ring_timeout_seconds: 15\n",
    '    ring_timeout_seconds: 15\n    pre_connect: ["sound:we-protect-our-staff"]\n',
)
"""A notice plays to the caller (2 s here) while the agent's phone rings: the call is
bridged when both the agent has answered and the notice has finished."""


class LoggedFloor(Floor):
    """A floor whose engine writes its queue_log as a live driver would: QUEUESTART
    when it starts, then the lines of each handled event, drained after it."""

    def __init__(self, site: str, folder: Path) -> None:
        super().__init__(site, start=T0)
        self.path = folder / "queue_log"
        self.queue_log = QueueLog(self.engine, QueueLogFile(self.path), self.now)

    def send(self, event: ev.Event) -> list[cmd.Command]:
        out = super().send(event)
        self.queue_log.drain()
        return out

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()


START = "1780000000|NONE|NONE|NONE|QUEUESTART|"

LOGIN_1001 = [
    "1780000000|NONE|NONE|PJSIP/1001|AGENTLOGIN|PJSIP/1001",
    "1780000000|MANAGER|support|PJSIP/1001|ADDMEMBER|",
    "1780000000|MANAGER|sales|PJSIP/1001|ADDMEMBER|",
]
LOGIN_1002 = [
    "1780000000|NONE|NONE|PJSIP/1002|AGENTLOGIN|PJSIP/1002",
    "1780000000|MANAGER|support|PJSIP/1002|ADDMEMBER|",
]


def test_an_answered_call_connects_and_completes_by_whoever_hangs_up_first(
    tmp_path: Path,
) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.call("c1", caller="0212345678")
    f.advance(1.0)
    f.call("c2", caller="0311112222")  # second in line
    f.advance(4.8)
    f.login("1001")  # at 6.2 s: rings c1
    f.advance(3.5)
    f.answer("1001", "c1")  # rang 3.5 s; c1 waited 9.3 s
    f.advance(62.6)
    f.hang_up("c1")  # the caller hangs up first; 1001 wraps up 30 s, then rings c2
    f.advance(32.0)
    f.answer("1001", "c2")
    f.advance(45.9)
    f.agent_hangs_up("1001", "c2")  # the agent hangs up first
    assert f.lines() == [
        START,
        "1780000000|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780000001|c2|support|NONE|ENTERQUEUE||0311112222|2",
        "1780000006|NONE|NONE|PJSIP/1001|AGENTLOGIN|PJSIP/1001",
        "1780000006|MANAGER|support|PJSIP/1001|ADDMEMBER|",
        "1780000006|MANAGER|sales|PJSIP/1001|ADDMEMBER|",
        "1780000009|c1|support|PJSIP/1001|CONNECT|9||3",
        "1780000072|c1|support|PJSIP/1001|COMPLETECALLER|9|63|1",
        "1780000104|c2|support|PJSIP/1001|CONNECT|103||2",
        "1780000150|c2|support|PJSIP/1001|COMPLETEAGENT|103|46|2",
    ]


def test_callers_who_give_up_waiting_are_abandoned_at_their_position(tmp_path: Path) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.call("c1", caller="")  # number withheld
    f.advance(3.0)
    f.call("c2", caller="0212345678")
    f.advance(39.3)
    f.hang_up("c1")
    f.advance(20.0)
    f.hang_up("c2")  # first in line by now
    assert f.lines() == [
        START,
        "1780000000|c1|support|NONE|ENTERQUEUE|||1",
        "1780000003|c2|support|NONE|ENTERQUEUE||0212345678|2",
        "1780000042|c1|support|NONE|ABANDON|1|1|42",
        "1780000062|c2|support|NONE|ABANDON|1|2|59",
    ]


def test_missed_rings_then_an_answer_and_a_caller_leaving_while_it_rings(
    tmp_path: Path,
) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.login("1001", "1002")
    f.advance(10.0)
    f.call("c1", caller="0212345678")  # rings 1001 (the longer idle, by roster)
    f.advance(15.0)  # nobody answers: the ring times out, c1 rings 1002
    f.advance(4.25)
    f.answer("1002", "c1")
    f.advance(1.0)
    f.call("c2", caller="0311112222")  # 1001 has rested 5 s: rings 1001
    f.advance(2.6)
    f.miss("1001", "c2", "busy")  # a second miss in a row: 1001 is paused
    f.advance(20.0)
    f.agent_hangs_up("1002", "c1")  # 1002 wraps up 30 s, then rings c2
    f.advance(31.5)
    f.hang_up("c2")  # 1.5 s into the ring
    assert f.lines() == [
        START,
        *LOGIN_1001,
        *LOGIN_1002,
        "1780000010|c1|support|NONE|ENTERQUEUE||0212345678|1",
        # app_queue writes the ring timeout itself when a ring times out ...
        "1780000025|c1|support|PJSIP/1001|RINGNOANSWER|15000",
        "1780000029|c1|support|PJSIP/1002|CONNECT|19||4",
        "1780000030|c2|support|NONE|ENTERQUEUE||0311112222|1",
        # ... and whole seconds when the phone refuses (2.6 s here: 33 - 30)
        "1780000033|c2|support|PJSIP/1001|RINGNOANSWER|3000",
        "1780000033|NONE|NONE|PJSIP/1001|PAUSEALL|Auto-Pause",
        "1780000033|NONE|support|PJSIP/1001|PAUSE|Auto-Pause",
        "1780000033|NONE|sales|PJSIP/1001|PAUSE|Auto-Pause",
        "1780000053|c1|support|PJSIP/1002|COMPLETEAGENT|19|24|1",
        "1780000084|c2|support|PJSIP/1002|RINGCANCELED|1500",
        "1780000084|c2|support|NONE|ABANDON|1|1|54",
    ]


def test_an_agent_pauses_with_a_reason_in_all_their_queues(tmp_path: Path) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.login("1001")
    f.advance(60.5)
    f.send(ev.AgentPause(agent_id="1001", reason="lunch"))
    f.advance(1800.0)
    f.send(ev.AgentUnpause(agent_id="1001"))
    f.advance(10.0)
    f.call("c1", caller="0212345678")
    f.advance(1.0)
    f.answer("1001", "c1")
    f.advance(5.0)
    f.send(ev.AgentPause(agent_id="1001", reason="coaching"))  # on a call: after wrap-up
    f.advance(60.0)
    f.agent_hangs_up("1001", "c1")
    f.advance(30.0)
    assert f.lines() == [
        START,
        *LOGIN_1001,
        "1780000060|NONE|NONE|PJSIP/1001|PAUSEALL|lunch",
        "1780000060|NONE|support|PJSIP/1001|PAUSE|lunch",
        "1780000060|NONE|sales|PJSIP/1001|PAUSE|lunch",
        "1780001860|NONE|NONE|PJSIP/1001|UNPAUSEALL|",
        "1780001860|NONE|support|PJSIP/1001|UNPAUSE|",
        "1780001860|NONE|sales|PJSIP/1001|UNPAUSE|",
        "1780001870|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780001871|c1|support|PJSIP/1001|CONNECT|1||1",
        "1780001936|c1|support|PJSIP/1001|COMPLETEAGENT|1|65|1",
        "1780001966|NONE|NONE|PJSIP/1001|PAUSEALL|coaching",
        "1780001966|NONE|support|PJSIP/1001|PAUSE|coaching",
        "1780001966|NONE|sales|PJSIP/1001|PAUSE|coaching",
    ]


def test_login_logoff_and_queues_following_the_agents_skills(tmp_path: Path) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.login("1001")
    f.advance(600.0)
    f.send(ev.SetAgentSkill(agent_id="1001", skill="sales", level=None))
    f.advance(600.0)
    f.send(ev.SetAgentSkill(agent_id="1001", skill="sales", level=2))
    f.call("c1", caller="0212345678")
    f.advance(2.0)
    f.answer("1001", "c1")
    f.advance(8.0)
    f.send(ev.AgentLogout(agent_id="1001"))  # on a call: after wrap-up
    f.advance(50.0)
    f.agent_hangs_up("1001", "c1")
    f.advance(30.0)
    assert f.lines() == [
        START,
        *LOGIN_1001,
        "1780000600|MANAGER|sales|PJSIP/1001|REMOVEMEMBER|",
        "1780001200|MANAGER|sales|PJSIP/1001|ADDMEMBER|",
        "1780001200|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780001202|c1|support|PJSIP/1001|CONNECT|2||2",
        "1780001260|c1|support|PJSIP/1001|COMPLETEAGENT|2|58|1",
        "1780001290|MANAGER|support|PJSIP/1001|REMOVEMEMBER|",
        "1780001290|MANAGER|sales|PJSIP/1001|REMOVEMEMBER|",
        "1780001290|NONE|NONE|PJSIP/1001|AGENTLOGOFF|PJSIP/1001|1290",
    ]


def test_a_member_added_while_paused_is_added_paused(tmp_path: Path) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.login("1002")
    f.advance(5.0)
    f.send(ev.AgentPause(agent_id="1002", reason="training"))
    f.send(ev.SetAgentSkill(agent_id="1002", skill="sales", level=1))
    assert f.lines()[-1] == "1780000005|MANAGER|sales|PJSIP/1002|ADDMEMBER|PAUSED"


def test_the_callback_given_up_after_its_last_try_exits_with_timeout(tmp_path: Path) -> None:
    # The engine has no maximum wait in line; the one way the queue gives a caller up
    # is a callback it could not reach.
    f = LoggedFloor(CALLBACK, tmp_path)
    f.call("c1", caller="0212345678")  # hears the callback offer
    f.advance(3.0)
    f.press("c1", "1")  # keeps the place in line; the line goes down after the notice
    f.advance(10.0)
    f.login("1001")  # rings for the callback
    f.advance(2.0)
    f.answer("1001", "c1")  # the caller is dialled
    f.advance(7.0)
    f.send(ev.CallbackFailed(call_id="c1", cause="busy"))  # tried again in 300 s
    f.advance(300.0)
    f.advance(1.0)
    f.answer("1001", "c1")
    f.advance(30.0)  # no answer within the callback's 30 s: the last try
    assert f.lines() == [
        START,
        "1780000000|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780000003|c1|support|NONE|CALLBACKREQUEST|1|1|1|3",
        "1780000013|NONE|NONE|PJSIP/1001|AGENTLOGIN|PJSIP/1001",
        "1780000013|MANAGER|support|PJSIP/1001|ADDMEMBER|",
        "1780000013|MANAGER|sales|PJSIP/1001|ADDMEMBER|",
        "1780000015|c1|support|PJSIP/1001|CALLBACKDIAL|1",
        "1780000022|c1|support|PJSIP/1001|CALLBACKNOANSWER|1|busy",
        "1780000323|c1|support|PJSIP/1001|CALLBACKDIAL|2",
        "1780000353|c1|support|PJSIP/1001|CALLBACKNOANSWER|2|no_answer",
        "1780000353|c1|support|NONE|EXITWITHTIMEOUT|1|1|353",
    ]


def test_a_callback_reached_is_one_call_whose_hold_time_includes_the_wait_at_home(
    tmp_path: Path,
) -> None:
    f = LoggedFloor(CALLBACK, tmp_path)
    f.call("c1", caller="0212345678")
    f.advance(5.5)
    f.press("c1", "1")
    f.advance(120.0)
    f.login("1001")
    f.advance(3.0)
    f.answer("1001", "c1")
    f.advance(7.5)
    f.send(ev.CallbackAnswered(call_id="c1"))
    f.advance(90.0)
    f.agent_hangs_up("1001", "c1")
    assert f.lines()[1:3] + f.lines()[6:] == [
        "1780000000|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780000005|c1|support|NONE|CALLBACKREQUEST|1|1|1|5",
        "1780000128|c1|support|PJSIP/1001|CALLBACKDIAL|1",
        "1780000136|c1|support|PJSIP/1001|CONNECT|136||3",
        "1780000226|c1|support|PJSIP/1001|COMPLETEAGENT|136|90|1",
    ]


def test_overflow_reads_as_the_vendor_trunk_being_a_member_of_the_queue(
    tmp_path: Path,
) -> None:
    f = LoggedFloor(OVERFLOW, tmp_path)
    f.call("c1", caller="0212345678")
    f.advance(60.0)  # dialled to the vendor
    f.advance(4.5)
    f.send(ev.VendorFailed(call_id="c1", cause="busy"))  # the vendor rests 30 s
    f.advance(30.0)  # dialled again
    f.advance(6.25)
    f.send(ev.VendorAnswered(call_id="c1"))
    f.advance(120.0)
    f.send(ev.VendorHungUp(call_id="c1"))
    f.call("c2", caller="0311112222")
    f.advance(62.5)  # dialled at 60 s, the caller gives up 2.5 s into it
    f.hang_up("c2")
    assert f.lines() == [
        START,
        "1780000000|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780000064|c1|support|PJSIP/vendor-a|RINGNOANSWER|4000",
        "1780000101|c1|support|PJSIP/vendor-a|CONNECT|101||6",
        "1780000221|c1|support|PJSIP/vendor-a|COMPLETEAGENT|101|120|1",
        "1780000221|c2|support|NONE|ENTERQUEUE||0311112222|1",
        "1780000283|c2|support|PJSIP/vendor-a|RINGCANCELED|2500",
        "1780000283|c2|support|NONE|ABANDON|1|1|62",
    ]


def test_hanging_up_between_the_answer_and_the_bridge(tmp_path: Path) -> None:
    f = LoggedFloor(PROTECTED, tmp_path)
    f.login("1001", "1002")
    f.advance(10.0)
    f.call("c1", caller="0212345678")  # rings 1001; the notice plays for 2 s
    f.advance(0.5)
    f.answer("1001", "c1")
    f.advance(0.5)
    f.agent_hangs_up("1001", "c1")  # before the bridge: back in line, rings 1002
    f.advance(2.6)
    f.answer("1002", "c1")  # the notice is over: bridged at once
    f.advance(31.0)  # 1001's wrap-up is over
    f.call("c2", caller="0311112222")  # rings 1001
    f.advance(0.5)
    f.answer("1001", "c2")
    f.advance(0.5)
    f.hang_up("c2")  # the caller leaves during the notice, after the answer
    assert f.lines()[len(LOGIN_1001) + len(LOGIN_1002) + 1 :] == [
        "1780000010|c1|support|NONE|ENTERQUEUE||0212345678|1",
        "1780000011|c1|support|PJSIP/1001|AGENTDUMP|",
        "1780000014|c1|support|PJSIP/1002|CONNECT|4||2",
        "1780000045|c2|support|NONE|ENTERQUEUE||0311112222|1",
        "1780000046|c2|support|PJSIP/1001|ABANDON|1|1|1",
    ]


def test_an_agent_flagging_an_abusive_caller_completes_the_call_as_the_agent(
    tmp_path: Path,
) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.login("1002")
    f.call("c1", caller="0212345678")
    f.answer("1002", "c1")
    f.advance(40.0)
    f.send(ev.AgentFlaggedAbusive(agent_id="1002", call_id="c1"))
    f.advance(10.0)
    f.hang_up("c1")  # after the warning: the call was over for the log already
    assert f.lines()[len(LOGIN_1002) + 2 :] == [
        "1780000000|c1|support|PJSIP/1002|CONNECT|0||0",
        "1780000040|c1|support|PJSIP/1002|COMPLETEAGENT|0|40|1",
    ]


# ---------------------------------------------------------------- the file


def test_reopen_after_logrotate_goes_on_in_a_new_file(tmp_path: Path) -> None:
    f = LoggedFloor(SITE, tmp_path)
    f.call("c1", caller="0212345678")
    f.path.rename(tmp_path / "queue_log.1")  # logrotate moves it away ...
    f.advance(10.0)
    f.queue_log.reopen(f.now)  # ... and sends SIGHUP
    f.hang_up("c1")
    assert (tmp_path / "queue_log.1").read_text().splitlines() == [
        START,
        "1780000000|c1|support|NONE|ENTERQUEUE||0212345678|1",
    ]
    assert f.lines() == [
        "1780000010|NONE|NONE|NONE|CONFIGRELOAD|",
        "1780000010|c1|support|NONE|ABANDON|1|1|10",
    ]
    assert f.queue_log.lines.open_calls == 0  # nothing kept of calls that ended
    f.queue_log.close()
    assert f.engine.facts is None  # off again: the engine reports nothing more


def test_a_log_appends_to_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("1779999999|NONE|NONE|NONE|QUEUESTART|\n")
    with QueueLogFile(path) as file:
        file.write(["1780000000|NONE|NONE|NONE|QUEUESTART|"])
    assert path.read_text().splitlines() == [
        "1779999999|NONE|NONE|NONE|QUEUESTART|",
        "1780000000|NONE|NONE|NONE|QUEUESTART|",
    ]


def test_a_path_that_cannot_be_opened_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        QueueLogFile(tmp_path / "missing" / "queue_log")
    with pytest.raises(OSError):
        QueueLogFile(tmp_path)


def test_a_reopen_that_fails_keeps_writing_to_the_open_file(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    file = QueueLogFile(folder / "queue_log")
    folder.rename(tmp_path / "gone")  # the path cannot be opened any more
    with pytest.raises(OSError):
        file.reopen()
    file.write(["1780000000|NONE|NONE|NONE|QUEUESTART|"])
    file.close()
    assert (tmp_path / "gone" / "queue_log").read_text() == (
        "1780000000|NONE|NONE|NONE|QUEUESTART|\n"
    )


# ---------------------------------------------------------------- facts


def test_facts_are_off_unless_a_driver_asks_and_every_fact_has_its_lines() -> None:
    f = Floor(SITE, start=T0)
    assert f.engine.facts is None
    f.login("1001")
    f.call("c1")
    assert f.engine.facts is None
    assert set(QueueLogLines._handlers) == set(fact.Fact.__args__)


def test_fields_never_hold_the_separator() -> None:
    lines = QueueLogLines({"a1": "Kim|Minji"}, {})
    out = lines.lines(
        [
            fact.CallEnteredQueue(at=T0, call_id="c1", queue="q", caller="01|2", position=1),
            fact.AgentPaused(at=T0, agent_id="a1", queues=("q",), reason="lunch|long"),
        ]
    )
    assert out == [
        "1780000000|c1|q|NONE|ENTERQUEUE||01_2|1",
        "1780000000|NONE|NONE|Kim_Minji|PAUSEALL|lunch_long",
        "1780000000|NONE|q|Kim_Minji|PAUSE|lunch_long",
    ]


# ---------------------------------------------------------------- acd simulate

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"


def surge_hour() -> Curve:
    """6,000 calls from 10:00 to 11:00 in Seoul's branch mix: far past what the floor
    answers, so callers abandon, overflow to vendors and take callbacks."""
    mix = {"covid": 0.2, "transport": 0.05, "water": 0.07, "general": 0.55,
           "directory": 0.08, "foreign": 0.02, "link": 0.03}
    columns = {b: [6000 / 4 * share if 40 <= i < 44 else 0.0 for i in range(96)]
               for b, share in mix.items()}
    return Curve.from_columns("surge-hour", 15, columns)


def test_simulate_writes_the_days_queue_log_matching_its_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = tmp_path / "surge.csv"
    write_curve(surge_hour(), curve)
    log, with_log, without_log = (tmp_path / n for n in ("queue_log", "a.json", "b.json"))
    log.write_text("a line from before\n")  # replaced: a replayed day is a log of its own
    argv = ["simulate", str(SEOUL), "--curve", str(curve), "--seed", "2", "--quiet"]
    assert main([*argv, "--json", str(with_log), "--queue-log", str(log)]) == 0
    assert f"wrote {log}" in capsys.readouterr().out
    assert main([*argv, "--json", str(without_log)]) == 0

    day = json.loads(with_log.read_text())
    lines = [line.split("|") for line in log.read_text().splitlines()]
    verbs = [fields[4] for fields in lines]
    total = day["total"]
    assert lines[0][1:] == ["NONE", "NONE", "NONE", "QUEUESTART", ""]
    assert total["abandoned"] > 0 and total["vendor_answered"] > 0 and total["callbacks"] > 0
    # Every caller who took a place in line entered (those turned away by a full
    # queue do not: app_queue writes nothing for them) ...
    assert verbs.count("ENTERQUEUE") == total["calls"] - total["blocked"]
    # ... answered ones connected (by agents, vendors, callbacks), the others
    # abandoned (the report's short abandons apart: the log has them all).
    assert verbs.count("CONNECT") == total["answered"]
    assert verbs.count("ABANDON") == total["abandoned"] + total["short_abandoned"]
    assert verbs.count("EXITWITHTIMEOUT") == day["outcomes"].get("callback_failed", 0)
    assert verbs.count("COMPLETECALLER") + verbs.count("COMPLETEAGENT") <= total["answered"]
    times = [int(fields[0]) for fields in lines]
    assert times == sorted(times)  # a log reads in time order
    # Writing the log changes nothing of the day.
    same = msgspec.json.decode(without_log.read_bytes())
    assert {**same, "run": None} == {**day, "run": None}


def test_simulate_refuses_a_queue_log_path_it_cannot_write_before_replaying(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = tmp_path / "surge.csv"
    write_curve(surge_hour(), curve)
    status = main(["simulate", str(SEOUL), "--curve", str(curve), "--quiet",
                   "--queue-log", "/nonexistent/queue_log"])
    out, err = capsys.readouterr()
    assert status == 1
    assert err.splitlines() == [
        "acd simulate: --queue-log /nonexistent/queue_log: the folder /nonexistent does "
        "not exist"
    ]
    assert "TOTAL" not in out  # nothing was replayed
