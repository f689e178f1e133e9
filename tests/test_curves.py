"""Surge curves: the shipped files, the parser's refusals, the transformations, Poisson
arrivals, and the `acd curve` tool."""

from __future__ import annotations

import argparse
import io
import math
import random
import shlex
from pathlib import Path

import pytest

from acd.cli.curve import add_parser
from acd.softphone_sim.curves import (
    COVID_MORNING_SHARE,
    SEOUL_BRANCHES,
    Curve,
    CurveError,
    build,
    fill_day_with,
    format_curve,
    load_curve,
    parse_curve,
    poisson,
    reshape,
    scale,
    scale_branch,
    shape_intervals,
    write_curve,
)

ROOT = Path(__file__).resolve().parent.parent
CURVES = ROOT / "config" / "curves"
SHIPPED = {
    "normal-weekday.csv": 14_500.0,
    "surge-stage1-60k.csv": 60_000.0,
    "surge-stage2-80k.csv": 80_000.0,
}
HEADER = "start," + ",".join(SEOUL_BRANCHES)


def acd_curve(argv: list[str]) -> int:
    """Run `acd curve ARGV` through the sub-command's own parser and run function."""
    parser = argparse.ArgumentParser(prog="acd")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["curve", *argv])
    status: int = args.run(args)
    return status


def day_text(
    step: int = 15, value: str = "1", header: str = "start,covid,general", skip: int = -1
) -> list[str]:
    """The lines of a valid curve (two columns), optionally without row `skip`."""
    width = header.count(",")
    rows = [
        f"{m // 60:02d}:{m % 60:02d}," + ",".join([value] * width)
        for i, m in enumerate(range(0, 24 * 60, step))
        if i != skip
    ]
    return ["# a test curve", header, *rows]


def refused(lines: list[str]) -> list[tuple[int, str, str]]:
    """(line, field, message) of each problem of the curve made of `lines`."""
    with pytest.raises(CurveError) as caught:
        parse_curve("\n".join(lines) + "\n", "t")
    assert all(problem.file == "t" for problem in caught.value.problems)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


# --- the shipped curves ---


@pytest.mark.parametrize("file", sorted(SHIPPED))
def test_shipped_curve_parses_with_its_total_and_a_full_day(file: str) -> None:
    curve = load_curve(CURVES / file)
    expected = SHIPPED[file]
    tolerance = 0.01 if expected < 20_000 else 0.005
    assert curve.total() == pytest.approx(expected, rel=tolerance)
    assert len(curve.rows) == 96
    assert curve.interval_seconds == 900
    assert curve.branches == SEOUL_BRANCHES
    assert [start for start, _ in curve.rows] == list(range(0, 24 * 60, 15))
    assert curve.recipe and curve.recipe[0].startswith("acd curve build")
    assert curve.notes  # each file says what it is
    # COVID's morning share is the field facts' 37.7 % in every shipped curve
    assert curve.share_before(12 * 60, "covid") == pytest.approx(0.377, abs=0.0005)
    # the weekday double hump: the busiest hours are 10-12 and 14-16, the night is quiet
    hours = curve.by_hour()
    busiest = sorted(range(24), key=lambda h: -hours[h])[:4]
    assert set(busiest) == {10, 11, 14, 15}
    assert hours[12] < hours[11] and hours[12] < hours[14]  # the lunch dip
    assert 0 < hours[3] < 0.01 * curve.total()  # a night trickle, not nothing


def test_shipped_branch_mix_follows_the_field_facts() -> None:
    normal = load_curve(CURVES / "normal-weekday.csv").by_branch()
    total = sum(normal.values())
    assert normal["water"] / total == pytest.approx(0.067, abs=0.0005)
    assert normal["transport"] / total == pytest.approx(0.052, abs=0.0005)
    assert normal["directory"] / total == pytest.approx(0.056, abs=0.0005)
    assert normal["covid"] / total == pytest.approx(0.19, abs=0.0005)
    assert max(normal, key=lambda b: normal[b]) == "general"
    for file in ("surge-stage1-60k.csv", "surge-stage2-80k.csv"):
        surge = load_curve(CURVES / file).by_branch()
        # the surge is COVID: the routine branches stay near their normal volume
        assert surge["covid"] / sum(surge.values()) > 0.75
        for branch in SEOUL_BRANCHES:
            if branch != "covid":
                assert 1.0 <= surge[branch] / normal[branch] <= 1.25


def _run_recipe(
    recipe: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run a curve's recipe steps (each step's output piped to the next's `-` input);
    return the text of the file the last step wrote."""
    piped = ""
    written = ""
    for step in recipe:
        words = shlex.split(step)
        assert words[:2] == ["acd", "curve"]
        monkeypatch.setattr("sys.stdin", io.StringIO(piped))
        assert acd_curve(words[2:]) == 0
        piped = capsys.readouterr().out
        if "-o" in words:
            written = Path(words[words.index("-o") + 1]).read_text()
    return written


@pytest.mark.parametrize("file", sorted(SHIPPED))
def test_shipped_curve_is_what_its_recipe_makes(
    file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = load_curve(CURVES / file)
    (tmp_path / "config" / "curves").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    remade = parse_curve(_run_recipe(shipped.recipe, monkeypatch, capsys), shipped.name)
    assert remade.recipe == shipped.recipe
    assert remade.rows == shipped.rows


# --- refusals, each at its line ---


def test_a_valid_little_curve_parses() -> None:
    curve = parse_curve("\n".join(day_text(step=10, value="2.5")) + "\n", "t")
    assert curve.interval_seconds == 600
    assert len(curve.rows) == 144
    assert curve.total() == pytest.approx(144 * 5.0)
    assert curve.by_branch() == {"covid": 360.0, "general": 360.0}
    assert curve.notes == ("a test curve",)


def test_bad_number_is_refused_at_its_line_and_field() -> None:
    lines = day_text()
    lines[7] = "01:15,1,abc"
    assert refused(lines) == [
        (8, "general", "expected a non-negative number of calls, got 'abc'"),
    ]


def test_negative_and_non_finite_values_are_refused() -> None:
    lines = day_text()
    lines[4] = "00:30,-1,1"
    lines[6] = "01:00,1,inf"
    problems = refused(lines)
    assert [(line, field) for line, field, _ in problems] == [(5, "covid"), (7, "general")]
    assert "non-negative" in problems[0][2]
    assert "'-1'" in problems[0][2]


def test_missing_field_is_refused_at_its_line() -> None:
    lines = day_text()
    lines[10] = "02:00,1"
    [(line, field, message)] = refused(lines)
    assert (line, field) == (11, "")
    assert message.startswith("2 fields, expected 3")


def test_too_many_fields_hint_at_a_decimal_comma() -> None:
    lines = day_text()
    lines[3] = "00:15,2,5,1"
    [(line, _, message)] = refused(lines)
    assert line == 4
    assert "decimal comma" in message


def test_out_of_order_time_is_refused_at_its_line() -> None:
    lines = day_text()
    lines[5], lines[6] = lines[6], lines[5]  # 00:45 before 00:30
    problems = refused(lines)
    assert problems[0][:2] == (6, "start")
    assert "uneven" in problems[0][2]  # 00:45 comes 30 minutes after 00:15
    assert problems[1][:2] == (7, "start")
    assert "out of order" in problems[1][2]


def test_duplicated_start_is_refused() -> None:
    lines = day_text()
    lines[5] = lines[4]
    problems = refused(lines)
    assert problems[0][:2] == (6, "start")
    assert "duplicated start 00:30 (also on line 5)" in problems[0][2]


def test_uneven_step_is_refused_at_its_line() -> None:
    lines = day_text(skip=30)  # 07:30 missing: 07:45 follows 07:15
    problems = refused(lines)
    assert problems[0][0] == 33  # row i is on line i + 3; row 30 is gone
    assert "uneven intervals: 07:45 is 30 minutes after 07:15" in problems[0][2]
    assert "expected 07:30" in problems[0][2]


def test_bad_header_is_refused_at_its_line() -> None:
    lines = day_text(header="start,covd,general,general")
    problems = refused(lines)
    assert [(line, field) for line, field, _ in problems] == [(2, "covd"), (2, "general")]
    assert "unknown branch 'covd' (did you mean 'covid'?)" in problems[0][2]
    assert "duplicate column" in problems[1][2]


def test_a_missing_header_is_refused() -> None:
    lines = day_text()
    del lines[1]
    [(line, _, message)] = refused(lines)
    assert line == 2
    assert message.startswith("missing header")


def test_the_first_column_must_be_start() -> None:
    lines = day_text(header="time,covid,general")
    [(line, _, message)] = refused(lines)
    assert line == 2
    assert "'start'" in message


def test_bad_times_are_refused() -> None:
    lines = day_text()
    lines[3] = "0:15,1,1"
    lines[5] = "24:00,1,1"
    problems = refused(lines)
    assert [(line, field) for line, field, _ in problems] == [(4, "start"), (6, "start")]
    assert "'00:15'" in problems[0][2]  # the hint
    # a bad start is taken to be where it should be: no second complaint about the grid


def test_half_hour_and_hourly_curves_are_read_and_other_lengths_refused() -> None:
    # Workforce tools export 15, 30 or 60 minutes; every divisor of the hour is read.
    for step in (30, 60):
        curve = parse_curve("\n".join(day_text(step=step)) + "\n", "t")
        assert curve.interval_minutes == step
        assert len(curve.rows) == 24 * 60 // step
    [(line, _, message)] = refused(day_text(step=45))
    assert line == 4
    assert "interval length 45 minutes" in message


def test_a_day_not_covered_is_refused() -> None:
    lines = day_text()[:-4]  # ends with 22:45
    [(line, _, message)] = refused(lines)
    assert line == len(lines)
    assert "end at 23:00" in message
    assert "4 intervals missing" in message
    lines = day_text()
    lines[2] = "00:15,1,1"  # starts at 00:15
    lines[3] = "00:30,1,1"
    problems = refused(lines)
    assert problems[0][0] == 3
    assert "starts at 00:00" in problems[0][2]


def test_every_problem_is_reported_at_once() -> None:
    lines = day_text(header="start,covid,gneral")
    lines[10] = "02:00,x,1"
    lines[20] = "04:30,1,-3"
    assert [line for line, _, _ in refused(lines)] == [2, 11, 21]


def test_unreadable_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CurveError, match="cannot read"):
        load_curve(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("# only a comment\n")
    with pytest.raises(CurveError, match="no header") as caught:
        load_curve(empty)
    assert caught.value.problems[0].file == str(empty)


def test_errors_name_the_file(tmp_path: Path) -> None:
    lines = day_text()
    lines[7] = "01:15,1,abc"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CurveError) as caught:
        load_curve(bad)
    assert str(caught.value).startswith(f"{bad}:8:")


def test_other_branch_names_can_be_allowed() -> None:
    text = "\n".join(day_text(header="start,billing,support")) + "\n"
    with pytest.raises(CurveError):
        parse_curve(text, "t")
    curve = parse_curve(text, "t", known_branches=None)
    assert curve.branches == ("billing", "support")


# --- writing and transformations ---


def test_write_and_read_back_keeps_every_branch_total(tmp_path: Path) -> None:
    curve = load_curve(CURVES / "surge-stage1-60k.csv")
    odd = scale(curve, factor=1 / 3, step="acd curve scale x --factor 0.333")
    path = tmp_path / "odd.csv"
    write_curve(odd, path)
    back = load_curve(path)
    assert back.recipe == odd.recipe
    for branch, total in odd.by_branch().items():
        assert back.by_branch()[branch] == pytest.approx(total, abs=0.0006)
    for branch in odd.branches:  # each value to 0.001 call
        assert back.column(branch) == pytest.approx(odd.column(branch), abs=0.001)


def test_scale_keeps_shape_and_mix() -> None:
    normal = load_curve(CURVES / "normal-weekday.csv")
    big = scale(normal, total=30_000)
    assert big.total() == pytest.approx(30_000)
    for branch in normal.branches:
        assert big.by_branch()[branch] / 30_000 == pytest.approx(
            normal.by_branch()[branch] / normal.total()
        )
    assert big.share_before() == pytest.approx(normal.share_before())
    assert scale(normal, factor=2).total() == pytest.approx(2 * normal.total())
    with pytest.raises(ValueError):
        scale(normal, factor=2, total=3)


def test_scale_one_branch_leaves_the_others() -> None:
    normal = load_curve(CURVES / "normal-weekday.csv")
    more_water = scale_branch(normal, "water", total=2000)
    assert more_water.by_branch()["water"] == pytest.approx(2000)
    assert more_water.column("general") == normal.column("general")
    surge = fill_day_with(normal, "covid", 50_000)
    assert surge.total() == pytest.approx(50_000)
    assert surge.column("transport") == normal.column("transport")
    assert surge.share_before(branch="covid") == pytest.approx(COVID_MORNING_SHARE, abs=1e-4)
    with pytest.raises(ValueError, match="already have"):
        fill_day_with(normal, "covid", 1000)
    with pytest.raises(ValueError, match="not in the curve"):
        scale_branch(normal, "watr", factor=2)


def test_reshape_keeps_totals_and_takes_the_other_shape() -> None:
    normal = load_curve(CURVES / "normal-weekday.csv")
    flat = build(100, {"covid": 0.5, "general": 0.5}, "flat", interval_minutes=5)
    reshaped = reshape(normal, flat)
    assert reshaped.interval_seconds == 300
    assert len(reshaped.rows) == 288
    for branch, total in normal.by_branch().items():
        assert reshaped.by_branch()[branch] == pytest.approx(total)
        column = reshaped.column(branch)
        assert max(column) == pytest.approx(min(column))  # flat: like's shape (or overall)
    back = reshape(reshaped, normal)
    for branch in normal.branches:
        assert back.column(branch) == pytest.approx(normal.column(branch))


def test_build_keeps_total_mix_and_shape() -> None:
    mix = {"covid": 0.3, "general": 0.6, "water": 0.1}
    curve = build(20_000, mix, "weekday", branch_shapes={"covid": "covid"}, interval_minutes=10)
    assert len(curve.rows) == 144
    assert curve.total() == pytest.approx(20_000)
    assert curve.by_branch() == pytest.approx({b: 20_000 * s for b, s in mix.items()})
    assert curve.share_before(branch="covid") == pytest.approx(0.377, abs=0.0005)
    start, _ = curve.peak()
    assert 10 * 60 <= start < 12 * 60
    hours = curve.by_hour("general")
    assert hours[10] > hours[12] < hours[14]  # two humps and a lunch dip
    assert max(hours[14:16]) > 0.9 * max(hours[10:12])
    flat = build(960, {"general": 1.0}, "flat")
    assert flat.column("general") == pytest.approx([10.0] * 96)
    with pytest.raises(ValueError, match="sum to"):
        build(100, {"covid": 0.5, "general": 0.4}, "flat")
    with pytest.raises(ValueError, match="unknown branch"):
        build(100, {"covid": 0.5, "genral": 0.5}, "flat")
    with pytest.raises(ValueError, match="unknown shape"):
        build(100, {"covid": 1.0}, "weekend")


@pytest.mark.parametrize("minutes", [5, 10, 15])
def test_shapes_sum_to_one_at_every_interval(minutes: int) -> None:
    for name in ("weekday", "covid", "flat"):
        weights = shape_intervals(name, minutes)
        assert len(weights) == 24 * 60 // minutes
        assert math.fsum(weights) == pytest.approx(1.0)
    covid = shape_intervals("covid", minutes)
    assert math.fsum(covid[: 12 * 60 // minutes]) == pytest.approx(COVID_MORNING_SHARE)


# --- Poisson arrivals ---


@pytest.mark.parametrize("mean", [0.3, 4.0, 9.9, 10.0, 37.5, 850.0])
def test_poisson_has_the_right_mean_and_variance(mean: float) -> None:
    rng = random.Random(7)
    n = 20_000
    draws = [poisson(rng, mean) for _ in range(n)]
    average = sum(draws) / n
    variance = sum((d - average) ** 2 for d in draws) / (n - 1)
    assert abs(average - mean) < 4 * math.sqrt(mean / n)
    assert variance == pytest.approx(mean, rel=0.06)
    assert min(draws) >= 0
    assert poisson(rng, 0.0) == 0


def test_poisson_small_mean_probabilities() -> None:
    rng = random.Random(3)
    n = 50_000
    zeros = sum(poisson(rng, 2.0) == 0 for _ in range(n)) / n
    assert zeros == pytest.approx(math.exp(-2.0), abs=4 * math.sqrt(0.135 * 0.865 / n))


def test_arrivals_are_deterministic_by_seed() -> None:
    curve = load_curve(CURVES / "normal-weekday.csv")
    first = curve.arrivals(11)
    assert curve.arrivals(11) == first
    assert curve.arrivals(random.Random(11)) == first
    assert curve.arrivals(12) != first
    assert first == sorted(first)


def test_arrivals_match_the_curve() -> None:
    curve = load_curve(CURVES / "surge-stage2-80k.csv")
    arrivals = curve.arrivals(5)
    expected = curve.total()
    assert abs(len(arrivals) - expected) < 4 * math.sqrt(expected)
    length = curve.interval_seconds
    counts = [0] * len(curve.rows)
    by_branch = dict.fromkeys(curve.branches, 0)
    for at, branch in arrivals:
        assert 0 <= at < 24 * 3600
        counts[int(at // length)] += 1
        by_branch[branch] += 1
    # every interval near its expectation (4 standard deviations)
    for count, mean in zip(counts, curve.interval_totals(), strict=True):
        assert abs(count - mean) < 4 * math.sqrt(mean) + 1
    for branch, total in curve.by_branch().items():
        assert abs(by_branch[branch] - total) < 4 * math.sqrt(total) + 1


def test_arrivals_in_a_window_are_the_days_arrivals_in_it() -> None:
    curve = load_curve(CURVES / "normal-weekday.csv")
    day = curve.arrivals(2)
    window = curve.arrivals(2, start_seconds=10 * 3600, end_seconds=12 * 3600 + 450)
    assert window == [a for a in day if 10 * 3600 <= a.at < 12 * 3600 + 450]
    assert window


def test_an_empty_curve_draws_nothing() -> None:
    empty = build(0, {"general": 1.0}, "flat")
    assert empty.arrivals(1) == []
    assert empty.share_before() == 0.0


# --- the acd curve tool ---


def test_cli_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert acd_curve(["show", str(CURVES / "surge-stage1-60k.csv")]) == 0
    out = capsys.readouterr().out
    assert "60,000.0 calls a day" in out
    assert "peak interval: 10:30-10:45" in out
    assert "morning 00:00-12:00" in out
    assert "covid" in out and "37.7 %" in out and "62.3 %" in out
    assert "\n23:00 " in out  # per hour


def test_cli_show_refuses_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = day_text()
    lines[7] = "01:15,1,abc"
    lines[9] = "01:45,-2,1"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    assert acd_curve(["show", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:8:" in err and f"{bad}:10:" in err
    assert "2 problem(s)" in err


def test_cli_scale_writes_a_file_with_its_recipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "big.csv"
    source = str(CURVES / "normal-weekday.csv")
    assert acd_curve(["scale", source, "--total", "30000", "-o", str(out)]) == 0
    assert f"wrote {out}: 30,000.0 calls" in capsys.readouterr().out
    curve = load_curve(out)
    assert curve.name == "big"
    assert curve.total() == pytest.approx(30_000, abs=0.01)
    assert curve.recipe[-1] == f"acd curve scale {source} --total 30000 -o {out}"
    assert len(curve.recipe) == 2

    assert acd_curve(["scale", str(out), "--branch", "water", "--factor", "2"]) == 0
    printed = parse_curve(capsys.readouterr().out, "x")
    assert printed.by_branch()["water"] == pytest.approx(2 * curve.by_branch()["water"], abs=0.01)
    assert printed.by_branch()["general"] == pytest.approx(curve.by_branch()["general"], abs=0.01)

    assert acd_curve(["scale", str(out), "--branch", "covid", "--day-total", "50000"]) == 0
    assert parse_curve(capsys.readouterr().out, "x").total() == pytest.approx(50_000, abs=0.01)


def test_cli_scale_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    source = str(CURVES / "normal-weekday.csv")
    assert acd_curve(["scale", source, "--day-total", "50000"]) == 1
    assert "--branch" in capsys.readouterr().err
    assert acd_curve(["scale", source, "--branch", "covid", "--day-total", "100"]) == 1
    assert "already have" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        acd_curve(["scale", source, "--total", "60,000"])
    assert usage.value.code == 2
    assert "not 60,000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        acd_curve(["scale", source, "--total", "1", "--factor", "2"])


def test_cli_reshape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flat = tmp_path / "flat.csv"
    assert acd_curve(["build", "--total", "96", "--mix", "general=1", "--shape", "flat",
                      "-o", str(flat)]) == 0  # fmt: skip
    capsys.readouterr()
    source = str(CURVES / "normal-weekday.csv")
    assert acd_curve(["reshape", source, "--like", str(flat)]) == 0
    curve = parse_curve(capsys.readouterr().out, "x")
    normal = load_curve(source)
    for branch, total in normal.by_branch().items():
        assert curve.by_branch()[branch] == pytest.approx(total, abs=0.01)
        assert max(curve.column(branch)) - min(curve.column(branch)) <= 0.0011


def test_cli_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.csv"
    argv = ["build", "--total", "20000", "--mix", "covid=0.3,general=0.7",
            "--shape", "weekday,covid=covid", "--interval-minutes", "5",
            "-o", str(out), "--note", "my what-if"]  # fmt: skip
    assert acd_curve(argv) == 0
    curve = load_curve(out)
    assert len(curve.rows) == 288
    assert curve.total() == pytest.approx(20_000, abs=0.01)
    assert curve.by_branch()["covid"] == pytest.approx(6_000, abs=0.01)
    assert curve.share_before(branch="covid") == pytest.approx(0.377, abs=0.0005)
    assert curve.notes == ("my what-if",)
    assert "my what-if" in out.read_text()
    capsys.readouterr()
    for mix, message in [
        ("covid=0.3,general=0.6", "sum to"),
        ("covid=0.3,genral=0.7", "did you mean 'general'"),
        ("covid=x", "not a number"),
        ("covid", "BRANCH=SHARE"),
    ]:
        assert acd_curve(["build", "--total", "100", "--mix", mix]) == 1
        assert message in capsys.readouterr().err
    assert acd_curve(["build", "--total", "100", "--mix", "covid=1", "--shape", "weekend"]) == 1
    assert "unknown shape" in capsys.readouterr().err


def test_cli_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    assert acd_curve(["shapes"]) == 0
    out = capsys.readouterr().out
    assert "weekday:" in out and "covid:" in out and "flat:" in out
    assert "37.7 % before noon" in out


def test_format_curve_round_trips() -> None:
    curve = Curve.from_columns("x", 15, {"covid": [1.25] * 96, "link": [0.0] * 96})
    text = format_curve(curve)
    assert "00:00,1.25,0\n" in text
    back = parse_curve(text, "x")
    assert back.rows == curve.rows
    assert back.notes == ()


def test_expected_per_interval_at_any_reporting_length() -> None:
    curve = load_curve(CURVES / "normal-weekday.csv")
    assert curve.expected_per_interval(900) == pytest.approx(curve.interval_totals())
    hourly = curve.expected_per_interval(3600)
    assert hourly == pytest.approx(curve.by_hour())
    five = curve.expected_per_interval(300, "covid")
    assert len(five) == 288
    assert five[:3] == pytest.approx([curve.column("covid")[0] / 3] * 3)
    odd = curve.expected_per_interval(7 * 60 * 60)  # 4 intervals, the last cut by midnight
    assert len(odd) == 4
    assert math.fsum(odd) == pytest.approx(curve.total())
