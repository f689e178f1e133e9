"""Erlang C and Erlang A (softphone_sim/erlang.py) and the `acd erlang` command.

Each formula is checked against something computed another way: exact rational
arithmetic for Erlang B/C, flow balance and Little's law for Erlang A, an independent
uniformization of the tagged caller's Markov chain for the Erlang A waiting-time
figures, and a small event simulation of M/M/c+M.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
from fractions import Fraction

import pytest

import acd.softphone_sim.erlang as erlang_module
from acd.cli.erlang import add_parser
from acd.softphone_sim.erlang import (
    Target,
    Traffic,
    UnreachableTargetError,
    UnstableError,
    agents_needed,
    erlang_a_distribution,
    erlang_b,
    erlang_c,
    evaluate,
    evaluate_erlang_a,
    evaluate_erlang_c,
)

# ----------------------------------------------------------------- exact references


def exact_erlang_b(c: int, a: Fraction) -> Fraction:
    """B = (A^c / c!) / sum_{k<=c} A^k / k!, in rationals (slow, exact)."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[c] / sum(terms)


def exact_erlang_c(c: int, a: Fraction) -> Fraction:
    """C = (A^c / c!) c / (c - A) / (sum_{k<c} A^k / k! + (A^c / c!) c / (c - A))."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# ----------------------------------------------------------------- Erlang B and C


def test_erlang_c_textbook_values_agree_with_exact_rationals() -> None:
    # A = 10 Erlangs, e.g. 200 calls/hour at AHT 180 s.
    assert float(exact_erlang_c(11, Fraction(10))) == pytest.approx(0.682118, abs=1e-6)
    assert float(exact_erlang_c(12, Fraction(10))) == pytest.approx(0.449388, abs=1e-6)
    assert round(erlang_c(11, 10.0), 4) == 0.6821
    assert round(erlang_c(12, 10.0), 4) == 0.4494
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-14)
    assert erlang_c(1, 0.5) == pytest.approx(0.5, rel=1e-14)  # M/M/1: P(wait) = rho
    for c in range(1, 30):
        for a in (Fraction(1, 3), Fraction(7, 2), Fraction(c * 9, 10)):
            if a < c:
                assert erlang_c(c, float(a)) == pytest.approx(
                    float(exact_erlang_c(c, a)), rel=1e-12
                )
            assert erlang_b(c, float(a)) == pytest.approx(float(exact_erlang_b(c, a)), rel=1e-12)


def test_erlang_c_is_stable_for_hundreds_and_thousands_of_agents() -> None:
    # A^c / c! overflows a float from c ~ 170: compare with a log-space sum instead.
    for c, a in ((500, 480.0), (1000, 950.0), (5000, 4900.0)):
        logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)]
        top = max(logs)
        b = math.exp(logs[c] - top) / math.fsum(math.exp(x - top) for x in logs)
        assert erlang_b(c, a) == pytest.approx(b, rel=1e-9)
        p = erlang_c(c, a)
        assert 0 < p < 1
        assert p == pytest.approx(c * b / (c - a * (1 - b)), rel=1e-9)


def test_erlang_c_figures_follow_the_closed_forms() -> None:
    traffic = Traffic.per_hour(200, 180)  # A = 10 Erlangs
    s = evaluate_erlang_c(traffic, 12, 20)
    c = erlang_c(12, 10.0)
    drain = 12 / 180 - 200 / 3600  # c mu - lambda
    assert s.prob_wait == c
    assert s.asa_seconds == pytest.approx(c / drain)
    assert s.asa_seconds == pytest.approx(0.449388 * 180 / 2, rel=1e-5)  # C AHT / (c - A)
    assert s.service_level == pytest.approx(1 - c * math.exp(-drain * 20))
    assert s.service_level == s.answered_within == s.service_level_asterisk
    assert s.occupancy == pytest.approx(10 / 12)
    assert s.mean_queue_length == pytest.approx(traffic.calls_per_second * s.asa_seconds)
    assert s.prob_abandon == 0 and s.answer_rate == 1
    # SL at T = 0 is the chance of not waiting; SL grows with T towards 1.
    assert evaluate_erlang_c(traffic, 12, 0).service_level == pytest.approx(1 - c)
    sls = [evaluate_erlang_c(traffic, 12, t).service_level for t in (0, 10, 20, 60, 3600)]
    assert sls == sorted(sls) and sls[-1] == pytest.approx(1, abs=1e-6)


def test_erlang_c_refuses_an_unstable_staffing() -> None:
    with pytest.raises(UnstableError, match="more than 10 agents"):
        erlang_c(10, 10.0)
    with pytest.raises(UnstableError):
        evaluate(Traffic.per_hour(1200, 180), 55)


def test_agents_needed_erlang_c_is_the_fewest_and_grows_with_target_and_load() -> None:
    traffic = Traffic.per_hour(1200, 180)  # 60 Erlangs
    s = agents_needed(traffic, Target(service_level=0.8, within_seconds=20))
    assert s.agents == 66
    assert s.service_level >= 0.8
    assert evaluate(traffic, 65, 20).service_level < 0.8
    previous = 0
    for level in (0.5, 0.7, 0.8, 0.9, 0.95, 0.99):
        n = agents_needed(traffic, Target(service_level=level)).agents
        assert n >= previous
        previous = n
    previous = 0
    for per_hour in (100, 400, 1200, 5000, 20000):
        n = agents_needed(Traffic.per_hour(per_hour, 180), Target(service_level=0.8)).agents
        assert n > previous
        previous = n
    asa = agents_needed(traffic, Target(max_asa_seconds=15))
    assert asa.asa_seconds <= 15 < evaluate(traffic, asa.agents - 1, 20).asa_seconds
    occ = agents_needed(traffic, Target(max_occupancy=0.85))
    assert occ.agents == math.ceil(60 / 0.85)
    both = agents_needed(traffic, Target(service_level=0.8, max_occupancy=0.85))
    assert both.agents == max(66, occ.agents)
    with pytest.raises(ValueError, match="patience"):
        agents_needed(traffic, Target(max_abandon=0.05))
    with pytest.raises(ValueError, match="no target"):
        agents_needed(traffic, Target())


def test_inputs_are_checked() -> None:
    for bad in (-1.0, 0.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            Traffic(bad, 180)
        with pytest.raises(ValueError):
            Traffic(1.0, bad)
        with pytest.raises(ValueError):
            Traffic(1.0, 180, bad)
    with pytest.raises(ValueError):
        Traffic.per_hour(-5, 180)
    with pytest.raises(ValueError):
        evaluate(Traffic(1.0, 1.0), 0)
    with pytest.raises(ValueError):
        Target(service_level=1.0)
    with pytest.raises(ValueError):
        Target(service_level=80)


# ----------------------------------------------------------------- Erlang A


def test_erlang_a_distribution_satisfies_the_balance_equations() -> None:
    traffic = Traffic.per_hour(1200, 180, 120)
    p = erlang_a_distribution(traffic, 58)
    lam, mu, gamma = 1200 / 3600, 1 / 180, 1 / 120
    assert math.fsum(p) == pytest.approx(1, abs=1e-15)
    for n in range(1, len(p)):
        death = min(n, 58) * mu + max(n - 58, 0) * gamma
        assert p[n - 1] * lam == pytest.approx(p[n] * death, rel=1e-9, abs=1e-300)
    assert p[-1] < 1e-15


def test_erlang_a_with_very_long_patience_is_erlang_c() -> None:
    for per_hour, aht, c in ((200, 180, 12), (1200, 180, 66), (950 * 20, 180, 1000)):
        a = evaluate(Traffic.per_hour(per_hour, aht, 1e8), c, 20)
        e = evaluate(Traffic.per_hour(per_hour, aht), c, 20)
        assert a.prob_wait == pytest.approx(e.prob_wait, rel=1e-4)
        assert a.service_level == pytest.approx(e.service_level, rel=1e-4)
        assert a.answered_within == pytest.approx(e.answered_within, rel=1e-4)
        assert a.asa_seconds == pytest.approx(e.asa_seconds, rel=1e-4)
        assert a.occupancy == pytest.approx(e.occupancy, rel=1e-4)
        assert a.prob_abandon < 1e-4


def test_erlang_a_flow_balance_little_and_limits() -> None:
    for per_hour, aht, patience, c in (
        (1200, 180, 120, 58),
        (1200, 180, 120, 40),  # heavily overloaded: still a steady state
        (300, 240, 30, 18),
        (80_000 / 10, 180, 90, 350),  # Seoul 120's peak hour scale
    ):
        traffic = Traffic.per_hour(per_hour, aht, patience)
        s = evaluate(traffic, c, 20)
        lam = traffic.calls_per_second
        throughput = s.mean_busy_agents / aht
        assert s.prob_abandon == pytest.approx((lam - throughput) / lam, rel=1e-9, abs=1e-12)
        assert s.mean_wait_seconds == pytest.approx(s.mean_queue_length / lam, rel=1e-12)
        # The tagged-caller sums agree with the birth-death chain: with T -> infinity
        # every answered call is answered within T and nobody abandons after T.
        late = evaluate(traffic, c, 1e7)
        assert late.answered_within == pytest.approx(1 - s.prob_abandon, rel=1e-9)
        assert late.abandoned_after == pytest.approx(0, abs=1e-12)
        # T = 0: answered within 0 = answered without waiting; every abandon is after 0.
        now = evaluate(traffic, c, 0)
        assert now.answered_within == pytest.approx(1 - s.prob_wait, rel=1e-12)
        assert now.abandoned_after == pytest.approx(s.prob_abandon, rel=1e-9)
        assert 0 <= s.answered_within <= s.service_level <= 1
        assert s.asa_seconds <= s.mean_wait_seconds / (1 - s.prob_abandon) + 1e-12


def test_erlang_a_abandonment_vanishes_and_service_improves_with_agents() -> None:
    traffic = Traffic.per_hour(1200, 180, 120)
    rows = [evaluate(traffic, c, 20) for c in range(1, 121)]
    for before, after in itertools.pairwise(rows):
        assert after.prob_abandon < before.prob_abandon
        assert after.service_level >= before.service_level
        assert after.answered_within >= before.answered_within
        assert after.asa_seconds <= before.asa_seconds
    assert rows[-1].prob_abandon < 1e-12
    assert rows[-1].service_level == pytest.approx(1, abs=1e-12)
    # One agent against 60 Erlangs: nearly everyone abandons.
    assert rows[0].prob_abandon > 0.95


def tagged_caller(traffic: Traffic, agents: int, t: float) -> tuple[float, float, float, float]:
    """(answered within t, abandoned after t, E[wait; answered], E[wait]) per arrival.

    An independent computation: the tagged caller's chain (j calls ahead, moving to
    j - 1 at rate c mu + j gamma, absorbed as answered from j = 0 at rate c mu, and
    as abandoned at rate gamma) is uniformized at rate L. A step k absorption has
    happened by time t iff the Poisson(L t) count of steps by t is >= k; expected
    visits to a state over all steps, divided by L, give the expected time in it.
    """
    p = erlang_a_distribution(traffic, agents)
    assert traffic.patience_seconds is not None
    mu, gamma = 1 / traffic.aht_seconds, 1 / traffic.patience_seconds
    c_mu = agents * mu
    v = list(p[agents:])
    size = len(v)
    rate = c_mu + size * gamma
    eventually = [c_mu / (c_mu + (j + 1) * gamma) for j in range(size)]
    lt = rate * t
    steps = int(lt + 12 * math.sqrt(lt) + 50)
    # tail[k] = P(N(t) >= k) for the Poisson(L t) count of uniformized steps by t.
    pmf = math.exp(-lt)
    tail = [1.0]
    for k in range(1, steps + 2):
        tail.append(max(0.0, tail[-1] - pmf))
        pmf *= lt / k
    answered_by_t = abandoned_by_t = abandoned = 0.0
    wait_answered = wait_all = 0.0
    k = 0
    while sum(v) > 1e-14:
        wait_all += sum(v) / rate
        wait_answered += sum(x * e for x, e in zip(v, eventually, strict=True)) / rate
        new = [0.0] * size
        answered_step = abandoned_step = 0.0
        for j, x in enumerate(v):
            down = (c_mu + j * gamma) / rate
            quit_ = gamma / rate
            if j == 0:
                answered_step += x * down
            else:
                new[j - 1] += x * down
            new[j] += x * (1 - down - quit_)
            abandoned_step += x * quit_
        k += 1
        weight = tail[k] if k < len(tail) else 0.0
        answered_by_t += answered_step * weight
        abandoned_by_t += abandoned_step * weight
        abandoned += abandoned_step
        v = new
    no_wait = math.fsum(p[:agents])
    return (no_wait + answered_by_t, abandoned - abandoned_by_t, wait_answered, wait_all)


def test_erlang_a_waiting_figures_match_a_uniformization_of_the_tagged_caller() -> None:
    for per_hour, aht, patience, c, t in (
        (180, 60, 30, 3, 20),
        (180, 60, 30, 2, 10),
        (600, 120, 45, 18, 15),
        (600, 120, 400, 22, 30),
    ):
        traffic = Traffic.per_hour(per_hour, aht, patience)
        within, after, wait_answered, wait_all = tagged_caller(traffic, c, t)
        s = evaluate_erlang_a(traffic, c, t)
        assert s.answered_within == pytest.approx(within, rel=1e-9)
        assert s.abandoned_after == pytest.approx(after, rel=1e-7, abs=1e-12)
        assert s.asa_seconds == pytest.approx(wait_answered / s.answer_rate, rel=1e-9)
        assert s.mean_wait_seconds == pytest.approx(wait_all, rel=1e-9)
        assert s.service_level == pytest.approx(within / (1 - s.prob_abandon + after), rel=1e-9)


def simulate_mmc_m(
    traffic: Traffic, agents: int, t: float, customers: int, seed: int
) -> dict[str, float]:
    """A tiny M/M/c+M simulation, FCFS, counting as engine/metrics.py does.

    Callers are taken in arrival order: a caller starts at the earliest time an
    agent frees (or at once); if that is later than its patience allows it abandons
    and takes no agent. Callers behind never affect those ahead, so this is exact.
    """
    assert traffic.patience_seconds is not None
    rng = random.Random(seed)
    free = [0.0] * agents
    clock = 0.0
    waited = answered = abandoned = within = abandoned_after = 0
    wait_answered = 0.0
    warm_up = customers // 10
    for i in range(customers):
        clock += rng.expovariate(traffic.calls_per_second)
        patience = rng.expovariate(1 / traffic.patience_seconds)
        service = rng.expovariate(1 / traffic.aht_seconds)
        start = max(clock, free[0])
        wait = start - clock
        counted = i >= warm_up
        if wait > patience:
            if counted:
                waited += 1
                abandoned += 1
                abandoned_after += patience > t
            continue
        heapq.heapreplace(free, start + service)
        if counted:
            waited += wait > 0
            answered += 1
            within += wait <= t
            wait_answered += wait
    n = customers - warm_up
    return {
        "prob_wait": waited / n,
        "prob_abandon": abandoned / n,
        "answered_within": within / n,
        "service_level": within / (answered + abandoned_after),
        "asa_seconds": wait_answered / answered,
    }


def test_erlang_a_agrees_with_a_small_simulation() -> None:
    traffic = Traffic.per_hour(330, 60, 45)  # 5.5 Erlangs on 5 agents: overloaded
    s = evaluate_erlang_a(traffic, 5, 15)
    sim = simulate_mmc_m(traffic, 5, 15, customers=40_000, seed=7)
    assert sim["prob_wait"] == pytest.approx(s.prob_wait, abs=0.02)
    assert sim["prob_abandon"] == pytest.approx(s.prob_abandon, abs=0.02)
    assert sim["answered_within"] == pytest.approx(s.answered_within, abs=0.02)
    assert sim["service_level"] == pytest.approx(s.service_level, abs=0.02)
    assert sim["asa_seconds"] == pytest.approx(s.asa_seconds, rel=0.1)


def test_agents_needed_erlang_a_is_the_fewest() -> None:
    traffic = Traffic.per_hour(1200, 180, 120)
    s = agents_needed(traffic, Target(service_level=0.8, within_seconds=20))
    assert s.agents == 58
    assert evaluate(traffic, 57, 20).service_level < 0.8 <= s.service_level
    ab = agents_needed(traffic, Target(max_abandon=0.02))
    assert ab.prob_abandon <= 0.02 < evaluate(traffic, ab.agents - 1, 20).prob_abandon
    rate = agents_needed(traffic, Target(min_answer_rate=0.98))
    assert rate.agents == ab.agents
    over = agents_needed(traffic, Target(answered_within=0.8))
    assert over.agents >= s.agents  # over all arrivals is the stricter convention
    # Abandonment keeps the queue short: fewer agents than Erlang C for the same SL.
    assert s.agents < agents_needed(Traffic.per_hour(1200, 180), Target(service_level=0.8)).agents


def test_agents_needed_gives_up_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(erlang_module, "MAX_AGENTS", 70)
    with pytest.raises(UnreachableTargetError):
        agents_needed(Traffic.per_hour(1200, 180), Target(service_level=0.999999))


def test_erlang_a_queue_truncation_has_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(erlang_module, "MAX_QUEUE_STATES", 1000)
    # Twice the load the agents can take, callers who wait days: the queue is ~10^6 deep.
    with pytest.raises(ValueError, match="still growing"):
        evaluate(Traffic.per_hour(7200, 180, 86_400 * 10), 100)


# ----------------------------------------------------------------- acd erlang


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="acd")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["erlang", *argv])
    status: int = args.run(args)
    return status


def test_cli_erlang_c_agents_needed(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["--calls-per-hour", "1200", "--aht", "180", "--target-sl", "0.8", "--within", "20"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Erlang C" in out
    assert "load 60.00 Erlangs" in out
    assert "agents needed: 66" in out
    row = next(line for line in out.splitlines() if line.startswith("<"))
    assert row.split()[1:] == ["66", "90.9%", "34.5%", "82.3%", "10.4", "10.4", "3.45"]


def test_cli_erlang_a_with_patience_and_percent(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(
            [
                "--calls-per-second",
                str(1 / 3),
                "--aht",
                "180",
                "--patience",
                "120",
                "--target-sl",
                "80%",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Erlang A" in out
    assert "agents needed: 58" in out
    assert "abandoned" in out
    row = next(line for line in out.splitlines() if line.startswith("<"))
    assert row.split()[1:7] == ["58", "95.7%", "56.2%", "81.1%", "76.4%", "7.5%"]


def test_cli_evaluates_given_staffings_and_says_which_are_unstable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["--calls-per-hour", "1200", "--aht", "180", "--agents", "60", "66"]) == 1
    captured = capsys.readouterr()
    assert "unstable: a load of 60 Erlangs needs more than 60 agents" in captured.out
    assert "    66" in captured.out
    assert "unstable" in captured.err
    assert (
        run(
            [
                "--calls-per-hour",
                "1200",
                "--aht",
                "180",
                "--patience",
                "60",
                "--agents",
                "50",
                "60",
                "--target-sl",
                "0.8",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "meets target" in out
    assert " no" in out and " yes" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--calls-per-hour", "-5", "--aht", "180", "--target-sl", "0.8"], "above zero"),
        (["--calls-per-hour", "100", "--aht", "0", "--target-sl", "0.8"], "AHT"),
        (["--calls-per-hour", "100", "--aht", "180", "--target-sl", "80"], "80%"),
        (["--calls-per-hour", "100", "--aht", "180"], "give a target"),
        (["--calls-per-hour", "100", "--aht", "180", "--max-abandon", "0.05"], "--patience"),
        (
            ["--calls-per-hour", "100", "--aht", "180", "--patience", "-1", "--agents", "5"],
            "patience",
        ),
        (["--calls-per-hour", "100", "--aht", "180", "--agents", "0"], "at least 1"),
    ],
)
def test_cli_bad_input_is_a_clear_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
