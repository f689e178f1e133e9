"""What `acd load` decides before a call and reads after it, without a PBX: when a
caller presses keys (from the IVR's prompts), who calls in a window (the replay's
first calls), and how SIPp's log turns into the callers' figures."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from acd.config.loader import load_site
from acd.load.outcomes import (
    ABANDONED,
    CONNECTED,
    ENDED,
    TURNED_AWAY,
    UNFINISHED,
    figures,
    read_attempts,
)
from acd.load.plan import Sounds, key_times, plan
from acd.load.scenarios import Layout, injection, person_scenario
from acd.softphone_sim.curves import load_curve
from acd.softphone_sim.people import day_start

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"
SOUNDS = ROOT / "config" / "asterisk" / "sounds"
CURVE = ROOT / "config" / "curves" / "surge-stage2-80k.csv"


def seconds(name: str, lang: str = "ko") -> float:
    return Sounds([SOUNDS], 3.0).seconds([f"sound:custom/{name}"], lang)


def test_keys_wait_for_the_menu_after_the_welcome() -> None:
    """A weekday caller hears the welcome, then presses on the main menu 1-3 s into
    it (barge-in): never during the welcome, which the IVR would ignore."""
    site = load_site(SEOUL)
    at = day_start(site) + 10 * 3600  # Tuesday 10:00
    welcome = seconds("welcome-120")
    for seed in range(20):
        ((when, digit),) = key_times(site, Sounds([SOUNDS], 3.0), ["1"], at, random.Random(seed))
        assert digit == "1"
        assert welcome + 1.0 <= when <= welcome + 3.0


def test_the_foreign_branch_presses_again_on_the_language_menu() -> None:
    site = load_site(SEOUL)
    at = day_start(site) + 10 * 3600
    first, second = key_times(site, Sounds([SOUNDS], 3.0), ["9", "1"], at, random.Random(1))
    assert (first[1], second[1]) == ("9", "1")
    assert 1.0 <= second[0] - first[0] <= 3.0  # the language menu starts on the 9


def test_a_window_plans_the_replays_first_calls_with_their_patience() -> None:
    site, curve = load_site(SEOUL), load_curve(CURVE)
    persons = plan(site, curve, 1, 10 * 60, 15, Sounds([SOUNDS], 3.0))
    assert persons == plan(site, curve, 1, 10 * 60, 15, Sounds([SOUNDS], 3.0))
    assert all(0 <= p.at < 900 for p in persons)
    assert [p.at for p in persons] == sorted(p.at for p in persons)
    expected = sum(sum(v) for m, v in curve.rows if 600 <= m < 615)
    assert abs(len(persons) - expected) < 4 * expected**0.5
    assert len({p.number for p in persons}) == len(persons)
    assert {p.info for p in persons} == {True, False}  # both DTMF methods in use
    assert max(len(p.attempts) for p in persons) > 1  # some would redial
    assert all(len(p.attempts) <= 4 for p in persons)  # simulation.redial.max_attempts


def test_the_injection_file_and_scenario_agree_on_the_fields() -> None:
    site, curve = load_site(SEOUL), load_curve(CURVE)
    persons = plan(site, curve, 1, 10 * 60, 15, Sounds([SOUNDS], 3.0))
    layout = Layout(2, 4)
    text = injection(layout, [layout.line(p, p.at * 1000) for p in persons])
    rows = text.splitlines()
    assert rows[0] == "SEQUENTIAL"
    assert all(row.count(";") == 3 + 2 * 2 + 2 * 4 for row in rows[1:])
    xml = person_scenario(layout, ["0", "1", "9"])
    assert f"[field{layout.redial(3)}]" not in xml  # the last attempt never redials
    assert f"[field{layout.patience(3)}]" in xml


LOG = """\
1 1 invite 100
1 1 answered 104
1 1 pressed 1 2100
1 1 connected 9100
1 1 ended 200100
2 1 invite 500
2 1 answered 504
2 1 pressed 1 2500
2 1 abandoned 40500
2 2 invite 100500
2 2 answered 100504
2 2 pressed 1 102500
2 2 connected 104500
2 2 ended 300000
3 1 invite 900
3 1 failed 486 905
4 1 invite 1000
4 1 answered 1004
4 1 pressed 9 3000
4 1 ended 6000
5 1 invite 1200
5 1 answered 1210
5 1 pressed 1 3000
5 1 abandoned 4000
6 1 invite 1300
garbage line
7 1 answered 1400
"""


def test_sipps_log_becomes_one_outcome_per_call_placed() -> None:
    attempts = read_attempts(LOG.splitlines())
    assert [(a.person, a.attempt, a.outcome) for a in attempts] == [
        (0, 1, CONNECTED), (1, 1, ABANDONED), (2, 1, TURNED_AWAY), (3, 1, ENDED),
        (4, 1, ABANDONED), (5, 1, UNFINISHED), (1, 2, CONNECTED),
    ]  # fmt: skip
    assert attempts[0].wait == pytest.approx(7.0)  # from the key to the answer


def test_the_figures_count_as_the_engine_counts() -> None:
    f = figures(read_attempts(LOG.splitlines()), sl_seconds=5.0, short_abandon=2.0)
    assert (f.placed, f.reached_ivr, f.connected, f.turned_away, f.ended_by_pbx) == (7, 5, 2, 1, 1)
    # Caller 2 gave up after 38 s; caller 5 after 1 s, within the short-abandon time.
    assert (f.abandoned, f.short_abandoned, f.abandoned_after_sl) == (1, 1, 1)
    assert f.unfinished == 1
    assert f.answer_rate == pytest.approx(2 / 7)
    # Answered within 5 s: caller 2's redial (2 s); caller 1 waited 7 s.
    assert f.service_level == pytest.approx(1 / 3)
    assert f.asa_seconds == pytest.approx((7.0 + 2.0) / 2)
    assert f.to_agent_seconds["p50"] == pytest.approx(4.0)
    assert f.first_prompt_ms["p99"] == pytest.approx(10.0)
