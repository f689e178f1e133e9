"""The pooled limit in every replay: what any routing could answer with the staffing
on duty (softphone_sim/bound.py), checked against the figures the planners' issue
measured for the reference site and by the Erlang A formulas' own limits."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from acd.config.loader import load_site
from acd.config.schema import Patience, SurvivalPoint
from acd.softphone_sim.bound import answered, mean_patience
from acd.softphone_sim.curves import load_curve
from acd.softphone_sim.replay import replay

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"


def test_the_normal_weekday_limit_is_the_planners_figure() -> None:
    """config/seoul120.yaml, the normal weekday, seed 1: 93.8 % in-house and 98.1 %
    with the vendors' seats (the planners' issue, measured independently)."""
    result = replay(load_site(SEOUL), load_curve(ROOT / "config/curves/normal-weekday.csv"), 1)
    bound = result.bound
    assert bound is not None
    assert bound.in_house == pytest.approx(0.938, abs=0.002)
    assert bound.with_vendors == pytest.approx(0.981, abs=0.002)
    assert len(bound.intervals) == len(result.intervals)
    assert sum(b.arrivals for b in bound.intervals) == result.calls
    # Vendor seats only while a contract is open (vendor A opens at 09:00).
    seats = {b.start: b.vendor_seats for b in bound.intervals}
    assert seats["03:00"] == 0 < seats["10:00"]
    for b in bound.intervals:
        assert 0 <= b.answered_in_house <= b.answered_with_vendors <= b.arrivals + 1e-9


@pytest.mark.parametrize(
    ("model", "mean"),
    [
        (Patience(kind="exponential", mean_seconds=120), 120.0),
        (Patience(kind="lognormal", median_seconds=150, sigma=0.9), 150 * math.exp(0.405)),
        (
            Patience(kind="table", points=[SurvivalPoint(after_seconds=0, still_waiting=1.0),
                                           SurvivalPoint(after_seconds=100, still_waiting=0.0)]),
            50.0,
        ),
    ],
)  # fmt: skip
def test_the_mean_patience_of_each_model(model: Patience, mean: float) -> None:
    assert mean_patience(model) == pytest.approx(mean)


def test_no_agent_answers_nothing_and_plenty_answer_everyone() -> None:
    assert answered(100, 900, 180, 120, 0) == 0.0
    assert answered(0, 900, 180, 120, 10) == 0.0
    assert answered(100, 900, 180, 120, 200) == pytest.approx(100, rel=1e-6)
    few, more = answered(100, 900, 180, 120, 10), answered(100, 900, 180, 120, 20)
    assert 0 < few < more < 100
    # Callers who never hang up (Erlang C): all answered while agents keep up, and
    # in overload what the agents can take (10 agents x 900 s / 180 s = 50 calls).
    assert answered(30, 900, 180, 1e12, 10) == 30
    assert answered(100, 900, 180, 1e12, 10) == pytest.approx(50)
