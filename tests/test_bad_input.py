"""Bad input as a new user gives it, table by table: configurations, curves, command
lines and servers that are not what they claim. Each case runs the `acd` command the
user would run and asserts what they would see: the exit status, a message naming
the file and line (or the field, or the flag), and never a traceback.

Exit statuses: 1 for bad input (a configuration, a curve, an output path, a server
that refuses); 2 for a command line that argparse itself refuses (a missing or
malformed argument)."""

from __future__ import annotations

import argparse
import asyncio
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from hypothesis import example, given, settings
from hypothesis import strategies as st

from acd.cli.main import build_parser, main
from acd.config.loader import ConfigErrors, parse_site
from tests.live import Floor, run_live
from tests.redis_server import RedisServer
from tests.test_config_loader import edit, line_of
from tests.test_live_features import MENU
from tests.test_live_features import site as live_site

BASE = """\
site: {name: bad input, utc_offset: "+09:00"}
skills: {gen: {}, med: {}}
pools: {floor: {kind: in_house}}
queues:
  gen: {skill: gen, pools: [floor]}
  med: {skill: med, pools: [floor]}
ivr:
  entry: hello
  nodes:
    hello: {kind: announce, prompt: [], next: {goto: main}}
    main:
      kind: menu
      prompt: ["sound:custom/menu"]
      options: {"1": {queue: gen}, "2": {queue: med}, "9": {goto: bye}}
    bye: {kind: hangup}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: med, level: 3}]}
"""
"""A small valid site; each case below edits one thing in it."""


@dataclass(frozen=True)
class ConfigCase:
    """`old` replaced by `new` in BASE must be refused at the line of `at` (a snippet of
    the edited text), naming `field`, with `words` in the message."""

    name: str
    old: str
    new: str
    at: str
    field: str
    words: str
    more: tuple[tuple[str, str], ...] = ()
    """Further (old, new) edits the case needs."""


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str, str]:
    """`acd check` on `text` written to a file: (status, file name, everything printed)."""
    path = tmp_path / "site.yaml"
    path.write_text(text)
    status = main(["check", str(path)])
    out, err = capsys.readouterr()
    return status, str(path), out + err


def test_the_base_site_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, printed = check(tmp_path, capsys, BASE)
    assert status == 0, printed


# --- callers trapped in the IVR -----------------------------------------------------------

IVR_LOOPS = [
    ConfigCase(
        "two announcements leading to each other",
        "hello: {kind: announce, prompt: [], next: {goto: main}}",
        "hello: {kind: announce, prompt: [], next: {goto: more}}\n"
        "    more: {kind: announce, prompt: [], next: {goto: hello}}",
        "next: {goto: hello}",
        "ivr.nodes.more.next.goto",
        "hello (announce, next) -> more (announce, next) -> hello forever",
    ),
    ConfigCase(
        "an announcement leading to itself",
        "hello: {kind: announce, prompt: [], next: {goto: main}}",
        "hello: {kind: announce, prompt: [], next: {goto: hello}}",
        "next: {goto: hello}",
        "ivr.nodes.hello.next.goto",
        "hello (announce, next) -> hello forever",
    ),
    ConfigCase(
        "a menu whose on_fail goes back to itself",
        '"9": {goto: bye}}',
        '"9": {goto: bye}}\n      on_fail: {goto: main}',
        "on_fail: {goto: main}",
        "ivr.nodes.main.on_fail.goto",
        "main (menu, on_fail) -> main forever",
    ),
    ConfigCase(
        "a menu whose on_fail replays the welcome before it",
        '"9": {goto: bye}}',
        '"9": {goto: bye}}\n      on_fail: {goto: hello}',
        "on_fail: {goto: hello}",
        "ivr.nodes.main.on_fail.goto",
        "hello (announce, next) -> main (menu, on_fail) -> hello forever",
    ),
    ConfigCase(
        "closed hours that announce and ask the schedule again",
        "bye: {kind: hangup}",
        "bye: {kind: hangup}\n"
        "    hours:\n"
        "      kind: schedule\n"
        '      branches: [{window: {start: "09:00", end: "18:00"}, then: {queue: gen}}]\n'
        "      otherwise: {goto: closed}\n"
        "    closed: {kind: announce, prompt: [], next: {goto: hours}}",
        "next: {goto: hours}",
        "ivr.nodes.closed.next.goto",
        "hours (schedule, otherwise) -> closed (announce, next) -> hours forever",
    ),
    ConfigCase(
        "a link whose next leads back to the link",
        "bye: {kind: hangup}",
        "bye: {kind: hangup}\n"
        '    link: {kind: send_link, link: "https://example.org", next: {goto: link}}',
        "next: {goto: link}",
        "ivr.nodes.link.next.goto",
        "link (send_link, next) -> link forever",
    ),
]


@pytest.mark.parametrize("case", IVR_LOOPS, ids=lambda case: case.name)
def test_a_loop_a_silent_caller_never_leaves_is_refused_at_the_route_closing_it(
    case: ConfigCase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(BASE, case.old, case.new)
    status, file, printed = check(tmp_path, capsys, text)
    assert status == 1
    assert "Traceback" not in printed
    line = line_of(text, case.at)
    # The column of the node name after `goto:` in the route that closes the loop.
    target = case.at.index("{goto: ") + len("{goto: ")
    column = text.splitlines()[line - 1].index(case.at) + target + 1
    assert f"{file}:{line}:{column}: {case.field}: " in printed, printed
    assert case.words in printed, printed
    assert "1 error(s)" in printed


def test_loops_a_caller_leaves_by_pressing_a_key_or_by_a_disconnect_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The menu's option 1 leads back to the welcome: only a caller who presses it goes
    # round; a silent one is disconnected after the menu's retries (no on_fail).
    text = edit(BASE, '"1": {queue: gen}', '"1": {goto: hello}, "3": {queue: gen}')
    # A menu that fails over to another menu, which fails over to a queue: bounded.
    text = edit(
        text,
        "bye: {kind: hangup}",
        "bye: {kind: hangup}\n"
        "    first: {kind: menu, prompt: [], options: {'1': {queue: gen}},\n"
        "            on_fail: {goto: second}}\n"
        "    second: {kind: menu, prompt: [], options: {'1': {queue: gen}},\n"
        "             on_fail: {queue: gen}}",
    )
    status, _, printed = check(tmp_path, capsys, text)
    assert status == 0, printed


def test_every_loop_is_reported_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = edit(
        BASE,
        "next: {goto: main}}",
        "next: {goto: main}}\n"
        "    x: {kind: announce, prompt: [], next: {goto: y}}\n"
        "    y: {kind: announce, prompt: [], next: {goto: x}}",
    )
    text = edit(text, '"9": {goto: bye}}', '"9": {goto: bye}}\n      on_fail: {goto: main}')
    status, _, printed = check(tmp_path, capsys, text)
    assert status == 1
    assert printed.count("forever") == 2, printed
    assert "2 error(s)" in printed



# --- configurations that can never answer a call ------------------------------------------

VENDOR = "vendors: {va: {trunk: PJSIP/va, skills: [gen], max_concurrent: 2}}\n"
"""A vendor, added before `ivr:` by the cases that need one."""

NIGHT_ONLY = """\
    hours:
      kind: schedule
      branches: [{window: {start: "09:00", end: "18:00"}, then: {goto: main}}]
      otherwise: {queue: night}"""
"""An entry that sends every caller outside 09:00-18:00 to the queue `night`."""

NEVER_ANSWERED = [
    ConfigCase(
        "a queue with pools: []",
        "med: {skill: med, pools: [floor]}",
        "med: {skill: med, pools: []}",
        "pools: []",
        "queues.med.pools",
        "no pool is admitted, and no relax step admits one nor an overflow rule names a"
        " vendor: no caller of this queue can ever be answered",
    ),
    ConfigCase(
        "a queue whose skill no agent holds",
        "skills: [{skill: med, level: 3}]",
        "skills: [{skill: gen, level: 3}]",
        "med: {skill: med",
        "queues.med.skill",
        "no agent holds skill 'med' at level 1 or above, and no overflow rule names a vendor",
    ),
    ConfigCase(
        "a queue whose skill is held below its level",
        "med: {skill: med, pools: [floor]}",
        "med: {skill: med, pools: [floor], min_level: 4}",
        "med: {skill: med",
        "queues.med.skill",
        "no agent holds skill 'med' at level 4 or above",
    ),
    ConfigCase(
        "a queue whose agents are in a pool it never admits",
        "a2, pool: floor",
        "a2, pool: home",
        "med: {skill: med",
        "queues.med.skill",
        "the 1 agent(s) holding skill 'med' at level 1 or above are in pool(s) home, which"
        " the queue never admits (it admits floor)",
        more=(("floor: {kind: in_house}}", "floor: {kind: in_house}, home: {kind: remote}}"),),
    ),
    ConfigCase(
        "a queue whose agents' pool is of size 0 at every stage",
        "a2, pool: floor",
        "a2, pool: home",
        "med: {skill: med",
        "queues.med.skill",
        "the agents holding skill 'med' are in pool(s) home, whose size is 0 at the site's"
        " distancing level and at every surge stage",
        more=(
            ("floor: {kind: in_house}}",
             "floor: {kind: in_house}, home: {kind: remote, size_by_distancing_level: {'1': 0}}}"),
            ("med: {skill: med, pools: [floor]}", "med: {skill: med, pools: [home]}"),
        ),
    ),
    ConfigCase(
        "a queue callers reach only at night, its agents work by day",
        "  entry: hello\n",
        "  entry: hours\n",
        "night: {skill",
        "queues.night",
        "callers reach it mon 18:00-tue 09:00, tue 18:00-wed 09:00, wed 18:00-thu 09:00,"
        " thu 18:00-fri 09:00 and 3 more (the IVR's schedules), and the 1 agent(s) and 0"
        " vendor(s) who can take its calls work only mon 09:00-mon 17:00, tue 09:00-tue"
        " 17:00, wed 09:00-wed 17:00, thu 09:00-thu 17:00 and 1 more",
    ),
    ConfigCase(
        "an overflow rule for a surge stage the site never reaches",
        "gen: {skill: gen, pools: [floor]}",
        "gen: {skill: gen, pools: [floor], overflow: [{vendors: [va], when: {stage_at_least: 3}}]}",
        "stage_at_least: 3",
        "queues.gen.overflow[0].when.stage_at_least",
        "surge stage 3 is never reached (surge.stages defines none): the rule can never hold",
    ),
]


def _never_answered_text(case: ConfigCase) -> str:
    text = edit(BASE, "ivr:\n", VENDOR + "ivr:\n")
    if case.name.startswith("a queue callers reach only at night"):
        night = "  night: {skill: night, pools: [floor]}\n"
        text = edit(text, "  med: {skill: med", night + "  med: {skill: med")
        text = edit(text, "skills: {gen: {}, med: {}}", "skills: {gen: {}, med: {}, night: {}}")
        text = edit(text, "    bye: {kind: hangup}", "    bye: {kind: hangup}\n" + NIGHT_ONLY)
        text += (
            "  - {id: n1, endpoint: PJSIP/n1, pool: floor, shift: day,"
            " skills: [{skill: night, level: 3}]}\n"
            "shifts: {day: {windows: [{days: [mon, tue, wed, thu, fri],"
            ' start: "09:00", end: "17:00"}]}}\n'
        )
    text = edit(text, case.old, case.new)
    for old, new in case.more:
        text = edit(text, old, new)
    return text


@pytest.mark.parametrize("case", NEVER_ANSWERED, ids=lambda case: case.name)
def test_a_queue_no_agent_or_vendor_can_ever_answer_is_refused(
    case: ConfigCase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _never_answered_text(case)
    status, file, printed = check(tmp_path, capsys, text)
    assert status == 1
    assert "Traceback" not in printed
    line = line_of(text, case.at)
    assert f"{file}:{line}:" in printed and f": {case.field}: " in printed, printed
    assert case.words in printed, printed
    assert "1 error(s)" in printed


ANSWERED_LATE = {
    "admitted by a relax step": [
        ("med: {skill: med, pools: [floor]}",
         "med: {skill: med, pools: [], relax: [{after_seconds: 30, pools: [floor]}]}"),
    ],
    "reached by relaxing the level": [
        ("med: {skill: med, pools: [floor]}",
         "med: {skill: med, pools: [floor], min_level: 4,"
         " relax: [{after_seconds: 60, min_level: 2}]}"),
    ],
    "a vendor only": [
        ("skills: [{skill: med, level: 3}]", "skills: [{skill: gen, level: 3}]"),
        ("ivr:\n", "vendors: {vm: {trunk: PJSIP/vm, skills: [med], max_concurrent: 1}}\nivr:\n"),
        ("med: {skill: med, pools: [floor]}",
         "med: {skill: med, pools: [floor],"
         " overflow: [{vendors: [vm], when: {waited_over_seconds: 60}}]}"),
    ],
    "a pool a surge stage opens": [
        ("pools: {floor: {kind: in_house}}",
         "pools: {floor: {kind: in_house, size_by_distancing_level: {'1': 0}}}\n"
         "surge: {stages: [{stage: 1, enter_at_calls_per_day: 1000, pool_sizes: {floor: 2}}]}"),
    ],
}


@pytest.mark.parametrize("name", ANSWERED_LATE)
def test_a_queue_answered_only_after_relaxing_by_a_vendor_or_in_a_surge_is_accepted(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BASE
    for old, new in ANSWERED_LATE[name]:
        text = edit(text, old, new)
    status, _, printed = check(tmp_path, capsys, text)
    assert status == 0, printed


SIMULATION = """\
simulation:
  branches:
    b: {keys: ["1"], talk: {median_seconds: 120}}
  agents: {answer_min_seconds: 2, answer_max_seconds: 6}
  patience: {mean_seconds: 180}
"""
"""A `simulation:` section, appended by the cases that edit one."""

ABSURD = [
    # (name, old, new, field, words): the error is on the line of `new` that holds the
    # field's key.
    ("a ring timeout of 1e300 s", "gen: {skill: gen, pools: [floor]}",
     "gen: {skill: gen, pools: [floor], ring_timeout_seconds: 1e300}",
     "queues.gen.ring_timeout_seconds", "expected a number of seconds from 1 to 600, got 1e300"),
    ("an empty site name", "name: bad input,", 'name: "",', "site.name",
     "expected a name of 1 to 100 characters without braces or spaces at either end,"
     " got an empty string"),
    ("a site name of spaces", "name: bad input,", 'name: "   ",', "site.name",
     "expected a name of 1 to 100 characters"),
    ("a site name with braces", "name: bad input,", 'name: "a{b}",', "site.name",
     "without braces"),
    ("max_per_hour above what the lines carry", "max_concurrent: 2}",
     "max_concurrent: 2, max_per_hour: 1000}", "vendors.va.max_per_hour",
     "1000 calls an hour cannot go through max_concurrent 2 lines: even calls of 10 s carry"
     " at most 720 an hour"),
    ("max_per_day above 24 hours of max_per_hour", "max_concurrent: 2}",
     "max_concurrent: 2, max_per_hour: 100, max_per_day: 5000}", "vendors.va.max_per_day",
     "5000 calls a day is more than 24 hours at 100 an hour (2400)"),
    ("five million vendor lines", "max_concurrent: 2}", "max_concurrent: 5000000}",
     "vendors.va.max_concurrent", "expected an integer from 1 to 10000, got 5000000"),
    ("a vendor without a trunk", "trunk: PJSIP/va", 'trunk: ""', "vendors.va.trunk",
     "expected a non-empty string, got an empty string"),
    ("a wrap-up of 1e9 s", "gen: {skill: gen, pools: [floor]}",
     "gen: {skill: gen, pools: [floor], wrap_up_seconds: 1e9}",
     "queues.gen.wrap_up_seconds", "expected a number of seconds from 0 to 3600, got 1e9"),
    ("a queue weight of a million", "gen: {skill: gen, pools: [floor]}",
     "gen: {skill: gen, pools: [floor], weight: 1000000}",
     "queues.gen.weight", "expected an integer from -1000 to 1000, got 1000000"),
    ("a route priority of 100000", '"1": {queue: gen}', '"1": {queue: gen, priority: 100000}',
     'ivr.nodes.main.options["1"].priority', "expected an integer from -1000 to 1000"),
    ("a menu timeout of 0 s", '"9": {goto: bye}}', '"9": {goto: bye}}\n      timeout_seconds: 0',
     "ivr.nodes.main.timeout_seconds", "expected a number of seconds from 1 to 60, got 0"),
    ("a menu retried 1000 times", '"9": {goto: bye}}', '"9": {goto: bye}}\n      retries: 1000',
     "ivr.nodes.main.retries", "expected an integer from 0 to 10, got 1000"),
    ("announcements every millisecond", "med: {skill: med, pools: [floor]}",
     "med: {skill: med, pools: [floor], announce: {every_seconds: 0.001}}",
     "queues.med.announce.every_seconds", "from 10 to 3600, got 0.001"),
    ("a relax step after 1e7 s", "med: {skill: med, pools: [floor]}",
     "med: {skill: med, pools: [floor], relax: [{after_seconds: 1e7, min_level: 1}]}",
     "queues.med.relax[0].after_seconds", "from 0 to 86400, got 1e7"),
    ("a queue of a million callers", "med: {skill: med, pools: [floor]}",
     "med: {skill: med, pools: [floor], max_waiting: 1000000}",
     "queues.med.max_waiting", "expected an integer from 0 to 100000, got 1000000"),
    ("a callback tried 100 times", "med: {skill: med, pools: [floor]}",
     "med: {skill: med, pools: [floor], callback: {when_expected_wait_over_seconds: 60,"
     " max_attempts: 100}}",
     "queues.med.callback.max_attempts", "expected an integer from 1 to 10, got 100"),
    ("a service level of 0 s", "utc_offset: \"+09:00\"}",
     "utc_offset: \"+09:00\", service_level_seconds: 0}",
     "site.service_level_seconds", "from 1 to 3600, got 0"),
    ("short abandons up to an hour", "utc_offset: \"+09:00\"}",
     "utc_offset: \"+09:00\", short_abandon_seconds: 3600}",
     "site.short_abandon_seconds", "from 0 to 60, got 3600"),
    ("a site with no language", "utc_offset: \"+09:00\"}",
     "utc_offset: \"+09:00\", languages: []}", "site.languages",
     "expected at least 1 item, got 0"),
    ("an agent without an endpoint", "endpoint: PJSIP/a1", 'endpoint: ""', "agents[0].endpoint",
     "expected a non-empty string, got an empty string"),
    ("a shift without windows", "ivr:\n", "shifts: {day: {windows: []}}\nivr:\n",
     "shifts.day.windows", "expected at least 1 item, got 0"),
    ("a window on no day", "ivr:\n", "shifts: {day: {windows: [{days: []}]}}\nivr:\n",
     "shifts.day.windows[0].days", "expected at least 1 item, got 0"),
    ("a surge stage at 100 million calls a day", "ivr:\n",
     "surge: {stages: [{stage: 1, enter_at_calls_per_day: 100000000}]}\nivr:\n",
     "surge.stages[0].enter_at_calls_per_day",
     "expected an integer from 1 to 10000000, got 100000000"),
    ("a talk time of 1e9 s", "talk: {median_seconds: 120}", "talk: {median_seconds: 1e9}",
     "simulation.branches.b.talk.median_seconds", "> 0 and <= 14400, got 1e9"),
    ("agents who answer before they start ringing", "answer_max_seconds: 6",
     "answer_max_seconds: 1", "simulation.agents.answer_max_seconds",
     "1 is below answer_min_seconds (2)"),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "field", "words"), ABSURD, ids=[case[0] for case in ABSURD]
)
def test_a_figure_no_real_centre_has_is_refused_naming_its_line_and_field(
    name: str, old: str, new: str, field: str, words: str,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    base = edit(BASE, "ivr:\n", VENDOR + "ivr:\n") + SIMULATION
    text = edit(base, old, new)
    status, file, printed = check(tmp_path, capsys, text)
    assert status == 1
    assert "Traceback" not in printed
    key = field.rsplit(".", 1)[-1].split("[")[0] + ":"
    at = next(line for line in new.splitlines() if key in line)
    assert f"{file}:{line_of(text, at)}:" in printed, printed
    assert f": {field}: " in printed and words in printed, printed
    assert "1 error(s)" in printed, printed


def test_a_patience_of_1e12_s_is_accepted_as_callers_who_never_hang_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Documented acceptance (config/README.md, "Ranges"): Erlang C's callers.
    text = edit(BASE + SIMULATION, "mean_seconds: 180", "mean_seconds: 1e12")
    status, _, printed = check(tmp_path, capsys, text)
    assert status == 0, printed


# --- curves -------------------------------------------------------------------------------

CORONA_SITE = """\
site: {name: corona site, utc_offset: "+09:00"}
skills: {corona: {}}
pools: {floor: {kind: in_house}}
queues:
  corona: {skill: corona, pools: [floor]}
ivr:
  entry: main
  nodes:
    main: {kind: menu, prompt: ["sound:custom/menu"], options: {"1": {queue: corona}}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: corona, level: 3}]}
simulation:
  branches:
    corona: {keys: ["1"], talk: {median_seconds: 60}}
"""
"""A site whose one IVR branch is not one of Seoul's."""


def curve_text(step: int = 30, calls: str = "1", header: str = "start,corona") -> str:
    """A day of `step`-minute intervals, `calls` in 09:00's interval and none elsewhere."""
    rows = [
        f"{m // 60:02d}:{m % 60:02d}," + ",".join(
            [calls if m == 9 * 60 else "0"] * header.count(",")
        )
        for m in range(0, 24 * 60, step)
    ]
    return "\n".join([header, *rows]) + "\n"


def simulate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], curve: str, *extra: str
) -> tuple[int, Path, str, str]:
    """`acd simulate` of CORONA_SITE on `curve`: (status, the curve's path, out, err)."""
    site, path = tmp_path / "site.yaml", tmp_path / "day.csv"
    site.write_text(CORONA_SITE)
    path.write_text(curve)
    status = main(["simulate", str(site), "--curve", str(path), "--quiet", *extra])
    out, err = capsys.readouterr()
    return status, path, out, err


def test_a_site_with_its_own_branch_replays_a_half_hour_curve_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, out, err = simulate(tmp_path, capsys, curve_text(step=30, calls="3"))
    assert status == 0, err
    assert "corona" in out
    assert "Traceback" not in out + err


CURVE_CASES = [
    # (name, curve text, line, column, field, words)
    ("1e12 calls in one interval", curve_text(calls="1e12"), 20, 7, "corona",
     "1e+12 calls: at most 30,000 in a 30-minute interval (1,000 a minute"),
    ("Seoul's columns for a site without them", curve_text(header="start,covid,general"), 1, 7,
     "covid", "unknown branch 'covid'; the branches of"),
    ("a misspelt branch of the site", curve_text(header="start,corna"), 1, 7, "corna",
     "unknown branch 'corna' (did you mean 'corona'?); the branches of"),
    ("45-minute intervals", curve_text(step=45), 3, 1, "start",
     "interval length 45 minutes (00:00 to 00:45): expected a length dividing the hour"),
]


@pytest.mark.parametrize(
    ("name", "curve", "line", "column", "field", "words"),
    CURVE_CASES,
    ids=[case[0] for case in CURVE_CASES],
)
def test_a_bad_curve_is_refused_by_simulate_naming_its_line_and_column(
    name: str, curve: str, line: int, column: int, field: str, words: str,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    status, path, out, err = simulate(tmp_path, capsys, curve)
    assert status == 1
    assert "Traceback" not in out + err
    assert f"{path}:{line}:{column}: {field}: {words}" in err, err
    if "branches of" in words:
        assert "(simulation.branches): corona" in err


def test_an_interval_whose_branches_together_exceed_the_cap_is_refused_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two.csv"
    path.write_text(curve_text(step=15, calls="8000", header="start,covid,general"))
    assert main(["curve", "show", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:38:7: the branches sum to 16,000 calls: at most 15,000 in a 15-minute" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["scale", "CURVE", "--factor", "1e9"], "--factor 1000000000"),
        (["build", "--total", "1e12", "--mix", "covid=1"], "--total 1000000000000"),
    ],
    ids=["scale by 1e9", "build 1e12 calls"],
)
def test_a_curve_made_over_the_cap_is_refused_naming_the_flag(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = str(Path(__file__).parent.parent / "config" / "curves" / "normal-weekday.csv")
    status = main(["curve", *(curve if word == "CURVE" else word for word in argv)])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""  # nothing half-written
    assert f": {flag}: the curve would have " in err and "at most 15,000" in err, err
    assert "Traceback" not in err


# --- output paths are checked before the work ---------------------------------------------

OUTPUTS = [
    # (name, flag, path: "{tmp}" is the test's folder, words)
    ("--json in a folder that does not exist", "--json", "/nonexistent/out.json",
     "the folder /nonexistent does not exist"),
    ("--report on /proc", "--report", "/proc/out.html", "cannot write there"),
    ("--json naming a folder", "--json", "{tmp}", "is a folder; name a file in it"),
    ("--json under a file", "--json", "{tmp}/day.csv/out.json", "{tmp}/day.csv is not a folder"),
]


@pytest.mark.parametrize(
    ("name", "flag", "path", "words"), OUTPUTS, ids=[case[0] for case in OUTPUTS]
)
def test_simulate_refuses_an_output_it_cannot_write_before_replaying(
    name: str, flag: str, path: str, words: str,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path, words = (text.replace("{tmp}", str(tmp_path)) for text in (path, words))
    status, _, out, err = simulate(tmp_path, capsys, curve_text(), flag, path)
    assert status == 1
    assert f"acd simulate: {flag} {path}: {words}" in err, err
    assert "TOTAL" not in out  # nothing was replayed
    assert "Traceback" not in out + err


def test_pbx_refuses_a_json_path_it_cannot_write_before_listening(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACD_ARI_PASSWORD", "secret")
    site, curve = tmp_path / "site.yaml", tmp_path / "day.csv"
    site.write_text(CORONA_SITE)
    curve.write_text(curve_text())
    status = main(["pbx", str(site), "--curve", str(curve), "--listen", "127.0.0.1:0",
                   "--no-wait", "--json", "/nonexistent/run.json"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "acd pbx: --json /nonexistent/run.json: the folder /nonexistent does not exist" in err
    assert "listening" not in out
    assert "Traceback" not in out + err


def test_a_result_that_cannot_be_written_at_the_end_is_kept_in_a_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from acd.cli.options import write_output

    gone = tmp_path / "removed" / "out.json"  # its folder went away during the run
    assert not write_output(str(gone), "--json", b'{"calls": 3}', "the result")
    err = capsys.readouterr().err
    assert f"--json {gone}: cannot write there (No such file or directory)" in err
    kept = Path(err.rsplit(" kept in ", 1)[1].strip())
    try:
        assert kept.read_bytes() == b'{"calls": 3}'
    finally:
        kept.unlink()


# --- acd state ------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No log line on stderr (the test reads stderr)."""


@pytest.fixture
def http_port() -> Iterator[int]:
    """A port where a plain HTTP server (not Redis) answers."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _site_in_redis(url: str, site: str) -> None:
    """A site's status in Redis, as an engine leaves it."""
    client = redis.Redis.from_url(url)
    try:
        client.hset(f"acd:{{{site}}}:status", mapping={"epoch": 1, "owner": "engine-1"})
        client.set(f"acd:{{{site}}}:epoch", 1)
    finally:
        client.close()


def test_state_on_a_database_redis_does_not_have_says_so(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = redis_server.url.rsplit("/", 1)[0] + "/99"
    assert main(["state", "site", "--redis", url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"acd state: --redis {url}: Redis has no database 99 (DB index is out of range; it"
        " has 16, 0-15, unless redis.conf sets `databases`)\n"
    )


def test_state_on_a_port_that_is_not_redis_says_so(
    http_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://127.0.0.1:{http_port}/0"
    assert main(["state", "site", "--redis", url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"acd state: --redis {url}: the server there does not speak Redis")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_state_of_a_mistyped_site_says_there_is_no_such_site(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _site_in_redis(redis_server.url, "seoul120")
    assert main(["state", "seoul12", "--redis", redis_server.url]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # not an empty site
    assert err == (
        f"acd state: no site 'seoul12' in Redis at --redis {redis_server.url} (did you mean"
        " 'seoul120'?): none of its keys exist (SITE_NAME is the site.name of its"
        " configuration); sites there: seoul120\n"
    )
    assert main(["state", "seoul120", "--redis", redis_server.url]) == 0


def test_state_piped_into_a_reader_that_stops_ends_quietly(redis_server: RedisServer) -> None:
    _site_in_redis(redis_server.url, "piped")
    proc = subprocess.Popen(
        [sys.executable, "-m", "acd.cli.main", "state", "piped", "--redis", redis_server.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head -0` would: nobody reads what it prints
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""


# --- acd serve --------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "wrong-Pa55-never-shown"


def serve(
    tmp_path: Path, *flags: str, timeout: float = 60, password: str = PASSWORD
) -> tuple[int, str, str]:
    """`acd serve` of BASE as a subprocess, with user `acd` and `password` in the
    environment: (status, out, err). Killed (by its pid) if still running after
    `timeout` wall seconds, which fails the test."""
    site = tmp_path / "site.yaml"
    site.write_text(BASE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACD_ARI")}
    env.update(ACD_ARI_USER="acd", ACD_ARI_PASSWORD=password)
    proc = subprocess.Popen(
        [sys.executable, "-m", "acd.cli.main", "serve", str(site), *flags],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(
            f"acd serve still running after {timeout} s; it wrote:\n{err}"
        ) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


SERVE_FLAGS = [
    # (name, flags: "{tmp}" is the test's folder, words after "acd serve: ")
    ("an --ari-url that is not a URL", ["--ari-url", "notaurl"],
     "--ari-url notaurl: expected Asterisk's HTTP server, http(s)://HOST:PORT"),
    ("an ftp --ari-url", ["--ari-url", "ftp://x"],
     "--ari-url ftp://x: expected Asterisk's HTTP server, http(s)://HOST:PORT"),
    ("an --ari-url without a host", ["--ari-url", "http://"],
     "--ari-url http://: expected Asterisk's HTTP server"),
    ("--standby without --redis", ["--standby"], "--standby needs --redis URL"),
    ("a lease of 0 ms", ["--lease-ms", "0"], "--lease-ms 0: expected 300 to 600000 ms"),
    ("a lease of 299 ms", ["--lease-ms", "299"], "--lease-ms 299: expected 300 to 600000 ms"),
    ("a lease of a day", ["--lease-ms", "86400000"],
     "--lease-ms 86400000: expected 300 to 600000 ms"),
    ("a snapshot every 0 events", ["--snapshot-every", "0"],
     "--snapshot-every 0: expected at least 1 event"),
    ("--stats-json in a folder that does not exist", ["--stats-json", "/nonexistent/s.json"],
     "--stats-json /nonexistent/s.json: the folder /nonexistent does not exist"),
    ("--stats-json on /proc", ["--stats-json", "/proc/s.json"],
     "--stats-json /proc/s.json: cannot write there"),
    ("--stats-json naming a folder", ["--stats-json", "{tmp}"],
     "--stats-json {tmp}: is a folder; name a file in it"),
]


@pytest.mark.parametrize(
    ("name", "flags", "words"), SERVE_FLAGS, ids=[case[0] for case in SERVE_FLAGS]
)
def test_serve_refuses_a_flag_it_cannot_use_before_starting(
    name: str, flags: list[str], words: str, tmp_path: Path
) -> None:
    flags, words = [f.replace("{tmp}", str(tmp_path)) for f in flags], words.replace(
        "{tmp}", str(tmp_path)
    )
    if "--ari-url" not in flags:
        flags = ["--ari-url", "http://127.0.0.1:1", *flags]  # never reached
    status, out, err = serve(tmp_path, *flags, timeout=30)
    assert status == 1, err
    assert err.startswith(f"acd serve: {words}"), err
    assert err.count("\n") == 1, err  # that one line: nothing was started
    assert "Traceback" not in out + err


class _RefusingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status the server was made with."""

    def do_GET(self) -> None:
        status = getattr(self.server, "status", 500)
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Asterisk REST Interface"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """No log line on stderr."""


@pytest.fixture
def refusing_server() -> Iterator[Callable[[int], int]]:
    """start(status) -> the port of a web server answering `status` to everything."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int) -> int:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingHandler)
        server.status = status  # type: ignore[attr-defined]
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def virtual_pbx() -> Iterator[int]:
    """The port of a virtual PBX (acd.softphone_sim) whose ARI user `acd` has the
    password `right`, served by a loop in a thread."""
    from acd.softphone_sim.pbx import VirtualPbx

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    pbx = VirtualPbx(users={"acd": "right"})
    try:
        yield asyncio.run_coroutine_threadsafe(pbx.start(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(pbx.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


CREDENTIALS = (
    "Asterisk refused the ARI credentials of user 'acd' (HTTP {status}): check ACD_ARI_USER"
    " and ACD_ARI_PASSWORD or --ari-password-file against ari.conf"
)
NO_ARI = (
    "no ARI events there (HTTP 404 on /ari/events): is it Asterisk's HTTP server (http.conf)"
    " with ARI enabled (ari.conf), at its root path?"
)
REFUSALS = [
    # (name, status the web server answers, words after "acd serve: --ari-url URL: ")
    ("a server refusing the credentials", 401, CREDENTIALS.format(status=401)),
    ("a server forbidding the user", 403, CREDENTIALS.format(status=403)),
    ("a web server that is not Asterisk", 404, NO_ARI),
]


def _assert_refused(status: int, out: str, err: str, line: str) -> None:
    assert status == 1, err
    assert err.endswith(f"acd serve: {line}\n"), err
    assert err.count("acd serve: ") == 1, err
    assert "cannot connect" not in err and "retrying" not in err, err  # not retried
    assert PASSWORD not in out + err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("name", "answer", "words"), REFUSALS, ids=[case[0] for case in REFUSALS]
)
def test_serve_stops_at_once_when_the_server_refuses_for_good(
    name: str, answer: int, words: str, tmp_path: Path,
    refusing_server: Callable[[int], int],
) -> None:
    url = f"http://127.0.0.1:{refusing_server(answer)}"
    status, out, err = serve(tmp_path, "--ari-url", url)
    _assert_refused(status, out, err, f"--ari-url {url}: {words}")


def test_serve_with_the_wrong_password_for_the_virtual_pbx_names_the_credentials(
    tmp_path: Path, virtual_pbx: int
) -> None:
    url = f"http://127.0.0.1:{virtual_pbx}"
    status, out, err = serve(tmp_path, "--ari-url", url)
    _assert_refused(status, out, err, f"--ari-url {url}: " + CREDENTIALS.format(status=401))


def test_serve_at_a_wrong_path_of_the_virtual_pbx_names_the_url(
    tmp_path: Path, virtual_pbx: int
) -> None:
    url = f"http://127.0.0.1:{virtual_pbx}/asterisk"
    status, out, err = serve(tmp_path, "--ari-url", url, password="right")
    _assert_refused(status, out, err, f"--ari-url {url}: {NO_ARI}")


# --- exit statuses in every --help --------------------------------------------------------

EXIT_STATUSES = {
    # sub-command (as typed after `acd`) -> the statuses it can end with
    "check": (0, 1, 2),
    "simulate": (0, 1, 2),
    "serve": (0, 1, 2, 3),
    "pbx": (0, 1, 2),
    "state": (0, 1, 2),
    "curve": (0, 1, 2),
    "curve show": (0, 1, 2),
    "curve scale": (0, 1, 2),
    "curve reshape": (0, 1, 2),
    "curve build": (0, 1, 2),
    "curve shapes": (0, 1, 2),
    "erlang": (0, 1, 2),
    "load": (0, 1, 2),
    "demo": (0, 1, 2),
    "wallboard": (0, 1, 2),
    "plan": (0, 1, 2),
}


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, str]:
    """Every sub-command of `parser`, nested ones too -> its --help text."""
    found: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub.format_help()
                found.update(_commands(sub, f"{prefix}{name} "))
    return found


def test_every_sub_command_is_in_the_exit_status_table() -> None:
    assert set(_commands(build_parser())) == set(EXIT_STATUSES)


@pytest.mark.parametrize(("command", "statuses"), EXIT_STATUSES.items())
def test_every_sub_commands_help_names_its_exit_statuses(
    command: str, statuses: tuple[int, ...]
) -> None:
    text = " ".join(_commands(build_parser())[command].split())  # argparse wraps lines
    assert "Exit status: 0 " in text, text
    said = {int(n) for n in re.findall(r"(?:Exit status:|;) (\d) ", text)}
    assert said == set(statuses), text


# --- generated near-valid inputs ----------------------------------------------------------

NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "2", "5", "15", "30", "600", "3600", "86400", "100000"]),
    st.sampled_from(["-1", "1e300", "-1e300", "1e-300", ".inf", "-.inf", ".nan", "1e12",
                     "99999999999999999999", "0.5", "abc", "''", "[]", "{}", "null", "true"]),
    st.integers(min_value=-(10**6), max_value=10**7).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
)
"""Numbers a user might write, and some they should not."""

FIGURES = """\
site: {name: figures, utc_offset: "+09:00", service_level_seconds: {0}}
skills: {gen: {}}
pools: {floor: {kind: in_house}}
vendors: {va: {trunk: PJSIP/va, skills: [gen], max_concurrent: {1}, max_per_hour: {2}}}
queues:
  gen:
    skill: gen
    pools: [floor]
    ring_timeout_seconds: {3}
    wrap_up_seconds: {4}
    weight: {5}
    overflow: [{vendors: [va], when: {waited_over_seconds: {6}}}]
ivr:
  entry: main
  nodes:
    main: {kind: menu, prompt: [], options: {"1": {queue: gen}}, retries: {7},
           timeout_seconds: {8}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
simulation:
  branches: {b: {keys: ["1"], talk: {median_seconds: {9}}}}
"""


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(NUMBERS, min_size=10, max_size=10))
@example(["20", "2", "700", "15", "10", "0", "60", "2", "5", "120"])  # accepted
@example(["20", "2", "800", "1e300", "10", "0", "60", "2", "5", "120"])  # refused
def test_any_figures_give_a_site_in_range_or_errors_naming_line_and_field(
    values: list[str],
) -> None:
    text = FIGURES
    for index, value in enumerate(values):
        text = text.replace("{" + str(index) + "}", value)
    try:
        site = parse_site(text, "figures.yaml")
    except ConfigErrors as refused:
        assert refused.errors
        for error in refused.errors:
            assert error.line >= 1 and error.path, error
        return
    queue = site.queues["gen"]
    assert 1 <= queue.ring_timeout_seconds <= 600
    assert 0 <= queue.wrap_up_seconds <= 3600
    assert -1000 <= queue.weight <= 1000
    vendor = site.vendors["va"]
    assert vendor.max_per_hour is not None
    assert vendor.max_per_hour <= vendor.max_concurrent * 360


@st.composite
def ivr_graphs(draw: st.DrawFn) -> list[tuple[str, str | None]]:
    """Nodes n0..nk as (kind, where a silent caller goes: a node, "queue", or None)."""
    size = draw(st.integers(min_value=1, max_value=6))
    targets = st.one_of(
        st.integers(min_value=0, max_value=size - 1).map(lambda i: f"n{i}"),
        st.just("queue"),
    )
    nodes: list[tuple[str, str | None]] = []
    for _ in range(size):
        kind = draw(st.sampled_from(["announce", "menu", "menu_no_fail", "hangup"]))
        nodes.append((kind, None if kind in ("hangup", "menu_no_fail") else draw(targets)))
    return nodes


def _ivr_site(nodes: list[tuple[str, str | None]]) -> str:
    lines = []
    menu = "kind: menu, prompt: [], options: {'1': {queue: gen}}"
    for index, (kind, target) in enumerate(nodes):
        route = "{queue: gen}" if target == "queue" else f"{{goto: {target}}}"
        if kind == "announce":
            lines.append(f"    n{index}: {{kind: announce, prompt: [], next: {route}}}")
        elif kind == "menu":
            lines.append(f"    n{index}: {{{menu}, on_fail: {route}}}")
        elif kind == "menu_no_fail":
            lines.append(f"    n{index}: {{{menu}}}")
        else:
            lines.append(f"    n{index}: {{kind: hangup}}")
    return edit(BASE, BASE[BASE.index("  entry: hello"):BASE.index("agents:")],
                "  entry: n0\n  nodes:\n" + "\n".join(lines) + "\n")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(ivr_graphs())
def test_an_ivr_is_accepted_exactly_when_every_silent_caller_leaves_it(
    nodes: list[tuple[str, str | None]],
) -> None:
    # A silent caller's walk from each node, step by step: it leaves (a queue, a
    # hang-up, a menu that disconnects) or, after as many steps as there are nodes, it
    # is going round.
    loops = False
    for start in range(len(nodes)):
        here: str | None = f"n{start}"
        for _ in range(len(nodes) + 1):
            if here is None or here == "queue":
                break
            here = nodes[int(here[1:])][1]
        else:
            loops = True
    try:
        parse_site(_ivr_site(nodes), "ivr.yaml")
    except ConfigErrors as refused:
        assert loops, str(refused)
        assert all("forever" in error.message for error in refused.errors), str(refused)
        return
    assert not loops


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(NUMBERS, min_size=3, max_size=3), st.sampled_from([5, 15, 30, 60]))
@example(["5000", "5000", "5000"], 15)  # 15,000: at the cap, accepted
@example(["5000", "5000", "5001"], 15)  # over it
def test_any_curve_figures_give_a_curve_under_the_cap_or_problems_naming_the_line(
    values: list[str], step: int
) -> None:
    from acd.softphone_sim.curves import MAX_CALLS_PER_MINUTE, CurveError, parse_curve

    text = curve_text(step=step, calls="X", header="start,a,b,c")
    text = edit(text, "09:00,X,X,X", "09:00," + ",".join(values))
    try:
        curve = parse_curve(text, "t", known_branches=None)
    except CurveError as refused:
        assert all(problem.line >= 1 for problem in refused.problems), str(refused)
        return
    assert max(curve.interval_totals()) <= MAX_CALLS_PER_MINUTE * step


# --- ARI frames: what a PBX (or something posing as one) may send the controller -----

CHANNEL = (
    '{"id": "x1", "name": "PJSIP/x-1", "state": "Up", "protocol_id": "", '
    '"caller": {"name": "", "number": "1"}, "connected": {"name": "", "number": ""}, '
    '"accountcode": "", "dialplan": {"context": "c", "exten": "120", "priority": 1, '
    '"app_name": "Stasis", "app_data": "acd"}, "creationtime": '
    '"2026-06-09T01:00:00.000+0000", "language": "en"}'
)
HEAD = '"application": "acd", "timestamp": "2026-06-09T01:00:00.000+0000"'


@dataclass(frozen=True)
class Frame:
    name: str
    text: str
    counted_as: str
    """"malformed" (not an event of the spec), "unknown" (a type it does not know) or
    "stray" (a valid event for a channel nobody knows)."""


FRAMES = [
    Frame("not JSON", "hello", "malformed"),
    Frame("truncated JSON", '{"type": "StasisStart", "appl', "malformed"),
    Frame("empty", "", "malformed"),
    Frame("a JSON array", "[1, 2, 3]", "malformed"),
    Frame("a JSON number", "42", "malformed"),
    Frame("JSON null", "null", "malformed"),
    Frame("an object without type", "{}", "malformed"),
    Frame("a number as type", '{"type": 7}', "malformed"),
    Frame("a type nobody knows", '{"type": "ChannelWentToTheMoon"}', "unknown"),
    Frame("MissingParams (not an event)", '{"type": "MissingParams", "params": ["x"]}',
          "unknown"),
    Frame("StasisStart without its channel", f'{{"type": "StasisStart", {HEAD}, "args": []}}',
          "malformed"),
    Frame("StasisStart whose args are a string",
          f'{{"type": "StasisStart", {HEAD}, "args": "no", "channel": {CHANNEL}}}', "malformed"),
    Frame("a key as a number",
          f'{{"type": "ChannelDtmfReceived", {HEAD}, "digit": 5, "duration_ms": 100, '
          f'"channel": {CHANNEL}}}', "malformed"),
    Frame("a timestamp that is not a time",
          f'{{"type": "ChannelDestroyed", "application": "acd", "timestamp": 12, '
          f'"cause": 16, "cause_txt": "x", "channel": {CHANNEL}}}', "malformed"),
    Frame("a key for a channel nobody knows",
          f'{{"type": "ChannelDtmfReceived", {HEAD}, "digit": "5", "duration_ms": 100, '
          f'"channel": {CHANNEL}}}', "stray"),
    Frame("the end of a channel nobody knows",
          f'{{"type": "StasisEnd", {HEAD}, "channel": {CHANNEL}}}', "stray"),
    Frame("a playback nobody started",
          f'{{"type": "PlaybackFinished", {HEAD}, "playback": {{"id": "nope", '
          f'"media_uri": "sound:x", "target_uri": "channel:x1", "language": "en", '
          f'"state": "done"}}}}', "stray"),
    Frame("an answer to a request never sent",
          f'{{"type": "RESTResponse", {HEAD}, "transaction_id": "z", "request_id": "z", '
          f'"status_code": 200, "reason_phrase": "OK", "uri": "asterisk/ping"}}', "stray"),
    Frame("a megabyte of one string", '{"type": "' + "A" * 1_000_000 + '"}', "unknown"),
    Frame("deep nesting", '{"type": "StasisStart", "args": ' + "[" * 500 + "]" * 500 + "}",
          "malformed"),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda frame: frame.name)
def test_a_bad_ari_frame_is_counted_and_the_floor_goes_on(frame: Frame) -> None:
    async def scenario(f: Floor) -> None:
        before = (f.client.counters.malformed_events, f.client.counters.unknown_events)
        assert f.pbx.send_raw(frame.text)
        # A caller right behind it is served as if nothing had happened.
        f.phone("PJSIP/agent1001", answer_after=1.0, talk=5.0)
        await f.login("PJSIP/agent1001")
        caller = f.caller(keys={MENU: "1"})
        f.call(caller)
        await f.until(lambda: caller.ended_by_pbx is not None)
        assert f.outcomes() == {"answered": 1}
        after = (f.client.counters.malformed_events, f.client.counters.unknown_events)
        grew = {"malformed": (1, 0), "unknown": (0, 1), "stray": (0, 0)}[frame.counted_as]
        assert (after[0] - before[0], after[1] - before[1]) == grew

    run_live(live_site(), scenario)
