"""Bad input as a new user gives it, table by table: configurations, curves, command
lines and servers that are not what they claim. Each case runs the `acd` command the
user would run and asserts what they would see: the exit status, a message naming
the file and line (or the field, or the flag), and never a traceback.

Exit statuses: 1 for bad input (a configuration, a curve, an output path, a server
that refuses); 2 for a command line that argparse itself refuses (a missing or
malformed argument)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from acd.cli.main import main

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


def edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, snippet: str) -> int:
    """The 1-based line holding `snippet` (which must occur once)."""
    assert text.count(snippet) == 1, f"{snippet!r} occurs {text.count(snippet)} times"
    return text[: text.index(snippet)].count("\n") + 1


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
