"""`acd plan` on a small site and a short day: the covering step's optimum, a planned
roster that holds on fresh seeds, the marginal value of a shift by its hours, the
command's refusals, and its JSON."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.cli.main import main
from acd.config.schema import SiteConfig
from acd.planner.covering import Pattern, UncoverableError, cover
from acd.planner.plan import Planner
from acd.planner.result import Plan
from acd.planner.roster import groups_of, with_counts
from acd.planner.runner import Runner
from acd.planner.target import parse_target
from acd.softphone_sim.curves import Curve, write_curve
from tests.harness import site_from_yaml

SITE = """
site: {name: plan test, utc_offset: "+09:00", service_level_seconds: 20}
skills: {gen: {}, spec: {}}
pools:
  floor: {kind: in_house}
  home: {kind: remote, size_by_distancing_level: {"1": 3}}   # at most 3 in service
queues:
  gen: {skill: gen, pools: [floor, home], wrap_up_seconds: 10}
  spec: {skill: spec, pools: [floor], min_level: 3, wrap_up_seconds: 10}
ivr:
  entry: main
  nodes:
    main:
      kind: menu
      prompt: ["sound:custom/menu"]
      options: {"1": {queue: gen}, "2": {queue: spec}}
shifts:
  morning: {windows: [{start: "08:00", end: "13:00"}]}
  afternoon: {windows: [{start: "12:00", end: "17:00"}]}
  long: {windows: [{start: "08:00", end: "17:00"}]}
  late: {windows: [{start: "19:00", end: "23:00"}]}   # no call comes then
agent_groups:
  - {first_id: 100, count: 6, pool: floor, shift: morning, skills: [{skill: gen, level: 3}]}
  - {first_id: 200, count: 6, pool: floor, shift: afternoon,
     skills: [{skill: gen, level: 3}, {skill: spec, level: 3}]}
  - {first_id: 300, count: 4, pool: floor, shift: long,
     skills: [{skill: gen, level: 3}, {skill: spec, level: 4}]}
  - {first_id: 400, count: 2, pool: floor, shift: late, skills: [{skill: gen, level: 3}]}
  - {first_id: 500, count: 4, pool: home, shift: long, skills: [{skill: gen, level: 3}]}
simulation:
  date: "2026-06-09"
  branches:
    gen: {keys: ["1"], talk: {kind: exponential, mean_seconds: 150}}
    spec: {keys: ["2"], talk: {kind: exponential, mean_seconds: 200}}
  patience: {kind: exponential, mean_seconds: 60}
  agents: {miss_probability: 0.0}
"""
"""Two queues, two pools (one capped at 3 in service), four shifts; calls only
08:00-17:00 (`short_day`), so the late shift covers idle hours."""


def short_day() -> Curve:
    """Calls 08:00-17:00 with a peak 10:00-13:00."""
    columns = {"gen": [0.0] * 96, "spec": [0.0] * 96}
    for i in range(32, 68):
        peak = 1.6 if 40 <= i < 52 else 1.0
        columns["gen"][i] = 14 * peak
        columns["spec"][i] = 3 * peak
    return Curve.from_columns("short", 15, columns)


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return site_from_yaml(SITE)


@pytest.fixture(scope="module")
def plan(site: SiteConfig) -> Plan:
    planner = Planner(
        site,
        short_day(),
        parse_target("answered:0.8"),
        seeds=(1, 2),
        check_seeds=(3, 4, 5),
    )
    with Runner(short_day(), jobs=1) as runner:
        return planner.run(runner, config_name="plan test")


# --- the covering step --------------------------------------------------------------------


def test_covering_gives_the_fewest_seat_hours_of_a_hand_checked_day() -> None:
    # Eight two-hour intervals; need 1, 1, 2, 3, 3, 2, 1, 1 agents. Shifts: early
    # (intervals 0-3), mid (2-5), late (4-7), 8 seat-hours each, and long (0-7), 16.
    # Intervals 3 and 4 need 3: early + mid >= 3 and mid + late >= 3. With one early and
    # one late (for the ends) mid must be 2: 4 agents, 32 seat-hours; long + 2 mid is
    # also 32; and no roster is cheaper, since intervals 0 and 7 need an early or long
    # and a late or long, and 3 needs three agents at once. So 32 is the least.
    early = Pattern(8, (1, 1, 1, 1, 0, 0, 0, 0))
    mid = Pattern(8, (0, 0, 1, 1, 1, 1, 0, 0))
    late = Pattern(8, (0, 0, 0, 0, 1, 1, 1, 1))
    long = Pattern(16, (1, 1, 1, 1, 1, 1, 1, 1))
    found = cover([1, 1, 2, 3, 3, 2, 1, 1], [early, mid, late, long])
    assert found.cost == 32 and found.proven
    assert found.counts in ((1, 2, 1, 0), (0, 2, 0, 1))


def test_covering_across_midnight_needs_whole_agents() -> None:
    # Three intervals round the clock, three shifts of two each (the third wraps round
    # midnight), one agent needed in each interval: half an agent in each shift would
    # do (3 seat-hours), but agents are whole: two shifts, 4 seat-hours.
    shifts = [Pattern(2, (1, 1, 0)), Pattern(2, (0, 1, 1)), Pattern(2, (1, 0, 1))]
    found = cover([1, 1, 1], shifts)
    assert found.lower_bound == pytest.approx(3.0)
    assert found.cost == 4 and sum(found.counts) == 2


def test_covering_respects_caps_and_says_when_it_cannot() -> None:
    cheap = Pattern(4, (1, 1), upper=2)
    dear = Pattern(9, (1, 1))
    assert cover([3, 3], [cheap, dear]).counts == (2, 1)
    with pytest.raises(UncoverableError):
        cover([3, 0], [cheap])
    with pytest.raises(UncoverableError):
        cover([1, 1], [Pattern(4, (1, 0))])


@settings(max_examples=150, deadline=None)
@given(
    need=st.lists(st.integers(0, 3), min_size=1, max_size=5),
    shapes=st.lists(
        st.tuples(
            st.sampled_from([1.0, 2.0, 3.5, 7.0]),
            st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=5, max_size=5),
            st.one_of(st.none(), st.integers(0, 3)),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_covering_matches_trying_every_roster(
    need: list[int], shapes: list[tuple[float, list[float], int | None]]
) -> None:
    patterns = [Pattern(c, tuple(cov[: len(need)]), u) for c, cov, u in shapes]
    best: float | None = None
    for counts in itertools.product(range(7), repeat=len(patterns)):  # 6 agents cover 3
        if any(p.upper is not None and x > p.upper for x, p in zip(counts, patterns, strict=True)):
            continue
        covered = [sum(p.coverage[i] * x for p, x in zip(patterns, counts, strict=True))
                   for i in range(len(need))]  # fmt: skip
        if all(c >= n for c, n in zip(covered, need, strict=True)):
            cost = sum(p.cost * x for p, x in zip(patterns, counts, strict=True))
            best = cost if best is None else min(best, cost)
    if best is None:
        with pytest.raises(UncoverableError):
            cover(need, patterns)
    else:
        assert cover(need, patterns).cost == pytest.approx(best)


# --- the roster ---------------------------------------------------------------------------


def test_a_roster_is_a_copy_with_other_counts(site: SiteConfig) -> None:
    groups = groups_of(site)
    assert [(g.first_id, g.configured) for g in groups] == [
        ("100", 6), ("200", 6), ("300", 4), ("400", 2), ("500", 4)
    ]  # fmt: skip
    planned = with_counts(site, groups, [2, 0, 7, 0, 4])
    ids = [a.id for a in planned.agents]
    assert len(ids) == len(set(ids)) == 13
    assert ids[:2] == ["100", "101"] and ids[2:9] == ["300", "301", "302", "303",
                                                     "300-plan1", "300-plan2", "300-plan3"]
    assert len(site.agents) == 22  # the site itself is untouched


# --- the plan -----------------------------------------------------------------------------


def test_the_planned_roster_meets_the_target_on_fresh_seeds(plan: Plan) -> None:
    assert plan.reached
    check = plan.planned.check
    assert check.seeds == [3, 4, 5]
    assert not set(check.seeds) & set(plan.planning_seeds)
    assert check.judged > 0 and check.share is not None
    assert check.holds and check.share >= plan.required_share
    assert "fresh seeds" in check.statement and "95 % confidence" in check.statement


def test_the_plan_compares_with_per_interval_erlang(plan: Plan) -> None:
    assert plan.model.startswith("Erlang A")  # an answer rate needs abandonment
    assert plan.erlang_need_seat_hours > 0
    # The Erlang roster covers the need with the site's shifts: never less than the need.
    assert plan.erlang.roster.seat_hours >= plan.erlang_need_seat_hours
    assert plan.rounds[0].seat_hours == plan.erlang.roster.seat_hours
    assert plan.planned.roster.seat_hours < plan.configured.roster.seat_hours
    needs = [iv.erlang_need for iv in plan.intervals]
    assert max(needs[40:52]) > max(needs[32:40])  # the peak needs more
    assert sum(needs[:32]) == 0 and sum(needs[68:]) == 0  # no calls, no need


def test_marginal_value_is_nothing_in_idle_hours_and_positive_at_the_peak(plan: Plan) -> None:
    by_shift = {(m.shift, m.pool): m for m in plan.marginal}
    late = by_shift[("late", "floor")]  # 19:00-23:00: no calls at all
    assert late.gain == pytest.approx(0.0, abs=0.5)
    assert late.note == "no calls in these hours"
    long = by_shift[("long", "floor")]  # 08:00-17:00, over the 10:00-13:00 peak
    assert long.gain > 0 and all(g > 0 for g in long.gain_per_seed)
    assert long.per_seat_hour == pytest.approx(long.gain / 9.0)
    morning = by_shift[("morning", "floor")]
    assert morning.gain > 0


def test_a_day_target_lets_intervals_miss_while_the_day_holds(site: SiteConfig) -> None:
    target = parse_target("sl:0.8/20", "day")
    planner = Planner(site, short_day(), target, seeds=(1, 2), check_seeds=(3, 4))
    with Runner(short_day(), jobs=1) as runner:
        day = planner.run(runner)
    assert day.reached and day.planned.check.holds
    assert all(s.day_met and (s.day_figure or 0) >= 0.8 for s in day.planned.check.per_seed)
    assert "the day's service level was" in day.planned.check.statement
    # Cheaper than the Erlang roster, which staffs every interval for the target.
    assert day.planned.roster.seat_hours < day.erlang.roster.seat_hours


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    config, curve = tmp_path / "site.yaml", tmp_path / "short.csv"
    config.write_text(SITE)
    write_curve(short_day(), curve)
    return config, curve


def test_json_round_trips_and_says_what_the_terminal_says(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Plan
) -> None:
    config, curve = files
    out_json, out_html = tmp_path / "plan.json", tmp_path / "plan.html"
    status = main(
        ["plan", str(config), "--curve", str(curve), "--target", "answered:0.8",
         "--seeds", "2", "--check-seeds", "3", "--jobs", "2", "--quiet",
         "--json", str(out_json), "--report", str(out_html)]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0, printed
    data = out_json.read_bytes()
    decoded = msgspec.json.decode(data, type=Plan)
    assert msgspec.json.decode(msgspec.json.encode(decoded)) == json.loads(data)
    # Two processes replay the same days as one: the plan is the fixture's.
    assert decoded.run.jobs == 2
    assert msgspec.structs.replace(decoded, config="", run=plan.run) == msgspec.structs.replace(
        plan, config=""
    )
    total = decoded.planned.roster
    assert "TOTAL" in printed and f"{total.seat_hours:,.1f}" in printed
    for row in total.rows:
        assert row.shift in printed
    assert "Marginal value" in printed and decoded.planned.check.statement in printed
    page = out_html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "Need against agents in service" in page


BAD_FLAGS = [
    # (flags, status, words in the one line)
    (["--target", "speed:9"], 2, "--target speed:9: expected answered:X"),
    (["--target", "sl:1.5/20"], 2, "--target sl:1.5/20: the share must be between 0 and 1"),
    (["--target", "sl:80/20"], 2, "(write 0.8 or 80%)"),
    (["--target", "sl:0.8/0"], 2, "--target sl:0.8/0: T must be 1 to 3600 seconds"),
    (["--target", "sl:0.8/x"], 2, "--target sl:0.8/x: expected T in seconds"),
    (["--target", "answered:0.9/20"], 2, "--target answered:0.9/20: an answer-rate target"),
    (["--per", "week"], 2, "--per week: expected interval or day"),
    (["--seeds", "0"], 2, "--seeds 0: expected 1 to 100 seeds"),
    (["--seeds", "two"], 2, "--seeds two: expected a whole number of seeds"),
    (["--check-seeds", "0"], 2, "--check-seeds 0: expected 1 to 100 seeds"),
    (["--jobs", "0"], 2, "--jobs 0: expected 1 to 256 processes"),
    (["--jobs", "-3"], 2, "--jobs -3: expected 1 to 256 processes"),
    (["--max-rounds", "0"], 2, "--max-rounds 0: expected 1 to 1000 rounds"),
    (["--min-calls", "-1"], 2, "--min-calls -1: expected 0 to 1000000 calls"),
    (["--json", "{tmp}/missing/plan.json"], 1, "--json {tmp}/missing/plan.json: the folder"),
    (["--report", "{tmp}"], 1, "--report {tmp}: is a folder"),
]


@pytest.mark.parametrize(
    ("flags", "status", "words"), BAD_FLAGS, ids=[" ".join(f[0]) for f in BAD_FLAGS]
)
def test_a_bad_flag_is_one_line_naming_it(
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    status: int,
    words: str,
) -> None:
    config, curve = files
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    words = words.replace("{tmp}", str(tmp_path))
    args = ["plan", str(config), "--curve", str(curve), "--target", "sl:0.8/20", *flags]
    assert main(args) == status
    out, err = capsys.readouterr()
    assert out == ""  # refused before any replay
    assert err.startswith("acd plan: ") and words in err, err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def test_a_bad_configuration_or_curve_is_refused_before_any_replay(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, curve = files
    missing = tmp_path / "missing.csv"
    assert main(["plan", str(config), "--curve", str(missing), "--target", "sl:0.8/20"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and str(missing) in err and "Traceback" not in err
    broken = tmp_path / "broken.yaml"
    broken.write_text(SITE.replace("wrap_up_seconds: 10}", "wrap_up_secnds: 10}", 1))
    assert main(["plan", str(broken), "--curve", str(curve), "--target", "sl:0.8/20"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and f"{broken}:" in err and "wrap_up_secnds" in err


def test_a_missing_target_is_refused_by_name(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, curve = files
    with pytest.raises(SystemExit) as stop:
        main(["plan", str(config), "--curve", str(curve)])
    assert stop.value.code == 2
    assert "--target" in capsys.readouterr().err.splitlines()[-1]
