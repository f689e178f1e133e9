"""Brakes under overload (ari/brakes.py): past the knee, new callers are turned away
at once, politely, and those let in are served as if there were no overload."""

from __future__ import annotations

from acd.ari.brakes import Brakes
from acd.config.schema import Admission
from tests.live import Floor, run_live
from tests.test_live_features import MENU, site


def test_the_rate_cap_lets_in_a_burst_then_the_rate() -> None:
    brakes = Brakes(Admission(max_new_calls_per_second=2, burst=3))
    assert [brakes.admit(0.0) for _ in range(5)] == [True, True, True, False, False]
    # A second later the bucket holds two more.
    assert [brakes.admit(1.0) for _ in range(3)] == [True, True, False]
    assert (brakes.admitted, brakes.turned_away) == (5, 3)


def test_no_cap_and_no_latency_bound_admits_everyone() -> None:
    brakes = Brakes(Admission(max_new_calls_per_second=0, max_ari_latency_ms=0))
    for t in range(50):
        brakes.round_trip(float(t), 30.0)
    assert all(brakes.admit(0.0) for _ in range(1000))


def test_slow_ari_shuts_the_door_until_it_is_fast_again() -> None:
    brakes = Brakes(Admission(max_ari_latency_ms=1000))
    for i in range(9):
        brakes.round_trip(0.1 * i, 2.0)
    assert brakes.admit(1.0)  # nine slow answers are not yet a trend
    brakes.round_trip(1.0, 2.0)
    assert brakes.braking and not brakes.admit(1.0)
    # Fast answers again: while a tenth of the recent ones are over half the bound,
    # the door stays shut; then it opens.
    for i in range(80):
        brakes.round_trip(1.0 + 0.01 * i, 0.05)
    assert brakes.braking
    for i in range(20):
        brakes.round_trip(1.8 + 0.01 * i, 0.05)
    assert not brakes.braking and brakes.admit(2.0)


def test_a_quiet_pbx_reopens_the_door() -> None:
    brakes = Brakes(Admission(max_ari_latency_ms=1000))
    for i in range(20):
        brakes.round_trip(0.1 * i, 3.0)
    assert not brakes.admit(2.0)
    # Nothing answered for longer than the window: nothing says it is still slow.
    assert brakes.admit(10.0)


def test_the_operator_gets_one_line_per_ten_seconds_not_one_per_caller() -> None:
    brakes = Brakes(Admission(max_new_calls_per_second=1, burst=1))
    lines = []
    for i in range(40):
        brakes.admit(i * 0.5)
        line = brakes.report(i * 0.5)
        if line is not None:
            lines.append(line)
    assert len(lines) == 2
    assert lines[0].startswith("overload: ") and "turned away" in lines[0]
    assert "over 1 new calls/s" in lines[0]


def test_past_the_cap_callers_hear_busy_and_those_let_in_are_served() -> None:
    async def scenario(f: Floor) -> None:
        f.phone("PJSIP/agent1001", answer_after=1.0, talk=5.0)
        f.phone("PJSIP/agent1002", answer_after=1.0, talk=5.0)
        await f.login("PJSIP/agent1001", "PJSIP/agent1002")
        callers = [f.caller(keys={MENU: "1"}) for _ in range(6)]
        for caller in callers:
            f.call(caller)
        await f.until(lambda: all(c.ended_by_pbx is not None for c in callers), within=120)
        served = [c for c in callers if c.bridged_with]
        busy = [c for c in callers if c.ended_by_pbx == 17 and not c.heard]
        assert (len(served), len(busy)) == (2, 4)
        assert f.controller.stats.turned_away == 4
        assert f.queue("gen").offered == 2  # the engine never saw the others
        assert f.outcomes() == {"answered": 2}
        # Later the bucket has refilled: the next caller is let in.
        again = f.caller(keys={MENU: "1"})
        f.call(again)
        await f.until(lambda: bool(again.bridged_with), within=60)

    run_live(site("").replace(
        "missed_ring:", "live: {admission: {max_new_calls_per_second: 0.5, burst: 2}}\nmissed_ring:"
    ), scenario)
