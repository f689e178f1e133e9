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


def test_a_surge_day_switches_stages_and_overflows(seoul: SiteConfig) -> None:
    # 24,000 calls from 10:00 to 14:00: 6,000 an hour (144,000 a day at that rate)
    # is past stage 2 and, at about 250 s a call, beyond what the floor can answer.
    surge = replay(seoul, small_day(24_000, "surge", first=40, last=56), seed=3)
    assert [stage for _, stage in surge.stages][:2] == [1, 2]
    assert surge.total.overflowed > 0
    assert sum(v.dialled for v in surge.vendors.values()) >= surge.total.overflowed
    assert surge.redials > 0  # surge callers who gave up call again
    assert surge.answer_rate is not None and surge.answer_rate < 0.9


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
    assert html.count("<svg") == 7  # six charts and answered against the pooled limit
    assert "Answered against the pooled limit" in html
    assert f"{data['calls']:,}" in html


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
