"""The surge replay as a planner uses it: `acd simulate` on a curve, its figures,
its JSON and report files, reproducibility by seed, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from acd.cli.main import main
from acd.config.loader import load_site
from acd.config.schema import SiteConfig
from acd.softphone_sim.curves import Curve, write_curve
from acd.softphone_sim.replay import replay
from acd.softphone_sim.result import Result

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"
BRANCHES = ("covid", "transport", "water", "general", "directory", "foreign", "link")


def small_day(calls: float, name: str = "small", first: int = 32, last: int = 80) -> Curve:
    """`calls` spread evenly over intervals [first, last) (08:00-20:00 by default) in
    the Seoul branch mix."""
    mix = {
        "covid": 0.2,
        "transport": 0.05,
        "water": 0.07,
        "general": 0.55,
        "directory": 0.08,
        "foreign": 0.02,
        "link": 0.03,
    }
    per_interval = calls / (last - first)
    columns = {
        b: [per_interval * mix[b] if first <= i < last else 0.0 for i in range(96)]
        for b in BRANCHES
    }
    return Curve.from_columns(name, 15, columns)


@pytest.fixture(scope="module")
def seoul() -> SiteConfig:
    return load_site(SEOUL)


@pytest.fixture(scope="module")
def day(seoul: SiteConfig) -> Result:
    return replay(seoul, small_day(3000), seed=11, config_name="seoul120")


def without_run(result: Result) -> bytes:
    data = msgspec.to_builtins(result)
    del data["run"]
    return msgspec.json.encode(data)


def test_every_call_of_the_day_ends_in_one_outcome(day: Result) -> None:
    assert 2700 < day.first_calls < 3300  # Poisson around the curve's 3,000
    assert day.calls == day.first_calls + day.redials
    assert sum(day.outcomes.values()) == day.calls
    queued = day.total.calls
    assert day.outcomes.get("self_served", 0) > 0  # the visible-ARS link branch
    assert queued == sum(
        day.outcomes.get(k, 0)
        for k in (
            "answered",
            "vendor_answered",
            "abandoned",
            "short_abandoned",
            "blocked",
            "callback_failed",
        )
    )


def test_a_quiet_day_is_answered_well(day: Result) -> None:
    assert day.answer_rate is not None and day.answer_rate > 0.9
    assert day.service_level is not None and day.service_level > 0.7
    assert day.stages == []  # 3,000 calls a day never reaches a surge stage


def test_figures_add_up_across_queues_and_intervals(day: Result) -> None:
    assert sum(q.answered for q in day.queues.values()) == day.answered
    assert sum(i.figures.answered for i in day.intervals) == day.answered
    assert sum(i.arrivals for i in day.intervals) <= day.calls
    assert len(day.intervals) == 96
    assert day.intervals[0].start == "00:00" and day.intervals[-1].start == "23:45"
    night, morning = day.intervals[8], day.intervals[40]  # 02:00 and 10:00
    assert night.expected == 0 and morning.expected == pytest.approx(3000 / 48)
    assert morning.agents_staffed > night.agents_staffed > 0


def test_same_seed_same_day_byte_for_byte(seoul: SiteConfig, day: Result) -> None:
    again = replay(seoul, small_day(3000), seed=11, config_name="seoul120")
    other = replay(seoul, small_day(3000), seed=12, config_name="seoul120")
    assert without_run(again) == without_run(day)
    assert without_run(other) != without_run(day)


@pytest.fixture(scope="module")
def surge(seoul: SiteConfig) -> Result:
    # 24,000 calls from 10:00 to 14:00: 6,000 an hour (144,000 a day at that rate)
    # is past stage 2 and, at about 250 s a call, more than the in-house floor can
    # answer: the vendors' seats are needed.
    return replay(seoul, small_day(24_000, "surge", first=40, last=56), seed=3)


def test_a_surge_day_switches_stages_and_overflows(surge: Result) -> None:
    assert [stage for _, stage in surge.stages][:2] == [1, 2]
    assert surge.total.overflowed > 0
    assert sum(v.dialled for v in surge.vendors.values()) >= surge.total.overflowed
    assert surge.redials > 0  # surge callers who gave up call again
    assert surge.abandoned > 0
    # More than the in-house floor's limit: the vendors took what it could not.
    assert surge.bound is not None and surge.bound.in_house is not None
    assert surge.answer_rate is not None and surge.answer_rate > surge.bound.in_house


def test_simulate_command_writes_json_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = tmp_path / "quiet.csv"
    write_curve(small_day(1500, "quiet"), curve)
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    status = main(
        [
            "simulate",
            str(SEOUL),
            "--curve",
            str(curve),
            "--seed",
            "5",
            "--json",
            str(out_json),
            "--report",
            str(out_html),
            "--quiet",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "TOTAL" in printed and "calls/s" in printed
    data = json.loads(out_json.read_text())
    for key in (
        "calls",
        "offered",
        "answered",
        "abandoned",
        "answer_rate",
        "service_level",
        "asa_seconds",
        "queues",
        "pools",
        "intervals",
        "run",
    ):
        assert key in data
    assert set(data["run"]) >= {"wall_seconds", "events_per_second"}
    html = out_html.read_text()
    # seven charts, answered against the pooled limit, one small chart per queue called
    queues_called = sum(1 for q in data["queues"].values() if q["calls"])
    assert html.count("<svg") == 8 + queues_called
    assert "Answered against the pooled limit" in html
    assert f"{data['calls']:,}" in html
    # a quiet day: no pool sat idle while callers abandoned, and nothing says so
    assert data["idle_while_abandoning"] == []
    assert "Idle while" not in printed and '<section class="alert"' not in html
    assert set(data["intervals"][40]) >= {
        "longest_queue",
        "longest_queue_on_line",
        "most_callbacks_waiting",
        "pools_staffed",
        "queues",
    }


def test_simulate_refuses_a_bad_curve_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = tmp_path / "bad.csv"
    write_curve(small_day(100), curve)
    lines = curve.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("10:00"))
    lines[row] = lines[row].replace(",", ",x", 1)
    curve.write_text("\n".join(lines) + "\n")
    assert main(["simulate", str(SEOUL), "--curve", str(curve), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"{curve}:{row + 1}:" in err


def test_simulate_needs_the_behaviour_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SEOUL.read_text()
    config = tmp_path / "nosim.yaml"
    config.write_text(text[: text.index("\nsimulation:")] + "\n")
    curve = tmp_path / "c.csv"
    write_curve(small_day(100), curve)
    assert main(["simulate", str(config), "--curve", str(curve), "--quiet"]) == 1
    assert "simulation" in capsys.readouterr().err


def test_curve_branch_without_behaviour_is_refused(seoul: SiteConfig) -> None:
    columns = {b: [1.0] * 96 for b in (*BRANCHES[:-1], "chatbot")}
    curve = Curve.from_columns("odd", 15, columns)
    with pytest.raises(ValueError, match="chatbot"):
        replay(seoul, curve, seed=1)


def test_callbacks_waiting_are_counted_apart_from_callers_on_the_line(surge: Result) -> None:
    # The surge day offers callbacks; the callers who take one hang up and keep their
    # place: `longest_queue` counts them, `longest_queue_on_line` does not.
    assert surge.total.callbacks > 0
    assert max(iv.most_callbacks_waiting for iv in surge.intervals) > 0
    for iv in surge.intervals:
        assert iv.longest_queue_on_line <= iv.longest_queue, iv.start
        assert iv.most_callbacks_waiting <= iv.longest_queue, iv.start
        # sampled together, each minute: the peak of the sum is at most the sum of peaks
        assert iv.longest_queue <= iv.longest_queue_on_line + iv.most_callbacks_waiting
    assert any(iv.longest_queue_on_line < iv.longest_queue for iv in surge.intervals)


COUNTS = ("calls", "offered", "answered", "abandoned", "answered_within_sl", "abandoned_after_sl")


def test_per_queue_interval_figures_add_up_to_the_day(day: Result, surge: Result) -> None:
    for result in (day, surge):
        for iv in result.intervals:
            for key in COUNTS:
                by_queue = sum(getattr(f, key) for f in iv.queues.values())
                assert by_queue == getattr(iv.figures, key), (iv.start, key)
            for f in iv.queues.values():
                assert f.calls > 0
                assert f.answer_rate == (f.answered / f.offered if f.offered else None)
    # A quiet day ends before midnight: every call joined in one of the day's intervals,
    # so each queue's intervals add up to its figures for the day.
    for name, q in day.queues.items():
        mine = [iv.queues[name] for iv in day.intervals if name in iv.queues]
        for key in COUNTS:
            assert sum(getattr(f, key) for f in mine) == getattr(q, key), (name, key)
    assert sum(1 for iv in day.intervals if iv.queues) > 40


def test_pools_staffed_add_up_to_the_agents_staffed(day: Result) -> None:
    for iv in day.intervals:
        assert sum(iv.pools_staffed.values()) == iv.agents_staffed
        assert set(iv.pools_staffed) == set(day.pools)


# A pool the routing never gives a call: "spare" takes only queue qb, and every caller
# goes to qa, whose two agents (pool "main") are swamped from 10:00 to 11:00. Nobody
# has a shift: the spare agents stay available, without a change of state, all day.
IDLE_SITE = """
site:
  name: idle spare
  short_abandon_seconds: 0
  interval_minutes: 15
skills: {a: {}, b: {}}
pools: {main: {kind: in_house}, spare: {kind: in_house}}
queues:
  qa: {skill: a, pools: [main], wrap_up_seconds: 0}
  qb: {skill: b, pools: [spare], wrap_up_seconds: 0}
ivr:
  entry: start
  nodes:
    start: {kind: announce, prompt: [], next: {queue: qa}}
agent_groups:
  - {count: 2, first_id: 1000, pool: main, skills: [{skill: a, level: 1}]}
  - {count: 6, first_id: 2000, pool: spare, skills: [{skill: b, level: 1}]}
simulation:
  branches:
    x: {keys: [], talk: {kind: exponential, mean_seconds: 120}}
  patience: {kind: exponential, mean_seconds: 60}
  redial: {probability: 0}
  agents: {answer_min_seconds: 0, answer_max_seconds: 0, miss_probability: 0}
"""


def idle_curve() -> Curve:
    """60 calls an interval from 10:00 to 11:00, none otherwise."""
    return Curve.from_columns("swamped", 15, {"x": [60.0 * (40 <= i < 44) for i in range(96)]})


def test_an_idle_pool_while_another_queue_abandons_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "idle.yaml"
    config.write_text(IDLE_SITE)
    curve = tmp_path / "swamped.csv"
    write_curve(idle_curve(), curve)
    out_json, out_html = tmp_path / "idle.json", tmp_path / "idle.html"
    argv = ["simulate", str(config), "--curve", str(curve), "--seed", "2", "--quiet"]
    assert main([*argv, "--json", str(out_json), "--report", str(out_html)]) == 0
    printed = capsys.readouterr().out
    data = json.loads(out_json.read_text())
    spans = data["idle_while_abandoning"]
    assert [(s["pool"], s["start"], s["end"]) for s in spans] == [("spare", "10:00", "11:00")]
    span = spans[0]
    assert span["agents"] == 6 and span["occupancy_max"] == 0.0
    abandoned = sum(iv["figures"]["abandoned"] for iv in data["intervals"][40:44])
    assert span["abandoned"] == abandoned > 100
    assert span["abandoned_by_queue"] == {"qa": abandoned}
    # One line in the terminal, the note at the top of the report.
    lines = [line for line in printed.splitlines() if line.startswith("Idle while")]
    assert lines == [
        "Idle while callers abandoned (pool under 20% occupancy): spare 10:00-11:00 "
        f"(6 agents busy 0.0%, {abandoned:,} callers abandoned)."
    ]
    html = out_html.read_text()
    callout = html.split('<section class="alert" role="note">')[1].split("</section>")[0]
    assert "<strong>spare</strong>: 6 agents on duty" in callout
    assert "<strong>10:00 to 11:00</strong>" in callout
    assert f"{abandoned:,} callers abandoned" in callout and f"qa {abandoned:,}" in callout
