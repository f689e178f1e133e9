"""Validation: the whole-day replay (engine + simulated people) against queueing theory.

A single queue is configured so that the simulated system *is* the model of
`softphone_sim/erlang.py`: Poisson arrivals at a constant rate, N identical agents
on duty all day, exponential talk time with no after-call work, first come first
served, and either no abandonment (Erlang C, M/M/c) or exponential patience
(Erlang A, M/M/c+M). The replay's service level, ASA, answered-within-T,
abandonment and pool occupancy must then agree with the formulas within the
statistical error of the run.

The error is estimated by batch means. A day's figures are autocorrelated (a bad
half hour leaves a queue behind it), so single calls are not independent samples.
The day starts empty, so the first two hours are dropped as warm-up; the other 22
hours of each day are cut into 11 batches of 2 hours (each about 1,600 calls, many
relaxation times of these queues: about 25 min at 90 % load, an hour at 93 %), and
the batches of independent seeds are pooled. A figure passes when
|batch mean - formula| <= max(4 standard errors, a small absolute floor).

Calls count in the 15-minute interval in which they joined the queue, whenever
they end (engine/metrics.py), so a batch is the calls that arrived in it.

`Figures` (softphone_sim/result.py) reports ratios, not the counts behind them:
answered within T is `service_level_asterisk * answered`, the wait of answered
calls `asa_seconds * answered`, and the calls abandoned after T follow from
`service_level` = within / (answered + abandoned after T) as long as some call of
the interval was answered within T (checked: `_counts` refuses otherwise).

The last test gives the check its teeth: the replay with one agent fewer matches
Erlang for N - 1 agents and is told apart, by the same tolerance, from Erlang for N.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable

import pytest

from acd.softphone_sim.curves import Curve
from acd.softphone_sim.erlang import Staffing, Traffic, evaluate
from acd.softphone_sim.replay import replay
from acd.softphone_sim.result import Figures, Result
from tests.harness import site_from_yaml

AHT_SECONDS = 120.0
CALLS_PER_SECOND = 0.225
"""Offered load 0.225 * 120 = 27 Erlangs; 19,440 calls a day."""
SL_SECONDS = 20.0
PATIENCE_SECONDS = 120.0
"""Erlang A: mean patience, exponential."""
NEVER_SECONDS = 1e12
"""Erlang C: a mean patience so long that nobody abandons. At 1e9 s it did happen once
in 20 days at 29 agents (a patience of 14 s was drawn, a 1.4e-8 chance for each of the
~390,000 callers); at 1e12 s it will not."""

SEEDS = {"erlang_c": (1, 2, 3, 4, 5, 6, 7, 8), "erlang_a": (1, 2, 3, 4)}
"""Independent days per model. Near 90 % load without abandonment the queue wanders
far and slowly, so Erlang C needs twice the days of Erlang A (where abandonment pulls
the queue back) for a useful tolerance: with 8 days the service level's standard
error is about 0.017 (one day's is 0.042), for Erlang A about 0.011 from 4 days."""
INTERVAL_MINUTES = 15
WARM_UP_INTERVALS = 8  # 2 hours
BATCH_INTERVALS = 8  # 2 hours: 11 batches a day
SIGMAS = 4.0
FLOORS = {
    "service_level": 0.01,
    "answered_within": 0.01,
    "asa_seconds": 0.5,
    "abandoned": 0.005,
    "occupancy": 0.005,
}
"""Absolute floors of the tolerance, in each figure's unit."""

ERLANG_C_AGENTS = 30  # 90 % occupancy, P(wait) 0.47, SL 0.71
ERLANG_A_AGENTS = 25  # overloaded (27 Erlangs on 25 agents): 12 % abandon, SL 0.67


def _site_yaml(agents: int, patience_seconds: float) -> str:
    """One queue, one skill, `agents` identical agents: every feature that the
    Erlang models lack is switched off, and each line says which."""
    return f"""
    site:
      name: erlang validation
      short_abandon_seconds: 0          # every abandon counts as abandoned (none is "short")
      service_level_seconds: {SL_SECONDS:g}
      interval_minutes: {INTERVAL_MINUTES}
    skills: {{s: {{}}}}
    pools: {{p: {{kind: in_house}}}}    # no size_by_distancing_level: no cap on agents in service
    queues:
      q:
        skill: s
        pools: [p]
        strategy: longest_idle           # identical agents: the choice of agent cannot matter
        wrap_up_seconds: 0               # handling time = talk time (Erlang's AHT)
        ring_timeout_seconds: 15         # agents answer in 0 s, so a ring never times out
        # No pre_connect, join_prompt, announce, callback, relax, overflow, max_waiting:
        # FCFS in one line, every caller waits until answered or out of patience.
    ivr:
      entry: start
      nodes:
        # Straight into the queue: an announce node with nothing to play.
        start: {{kind: announce, prompt: [], next: {{queue: q}}}}
    agent_groups:
      # No shift: every agent logs in at 00:00 and stays all day (and through the drain).
      - {{count: {agents}, first_id: 1000, pool: p, skills: [{{skill: s, level: 1}}]}}
    simulation:
      branches:
        b: {{keys: [], talk: {{kind: exponential, mean_seconds: {AHT_SECONDS:g}}}}}
      patience: {{kind: exponential, mean_seconds: {patience_seconds:g}}}
      redial: {{probability: 0}}         # an abandon is not followed by a new call
      callback_acceptance: 0             # (no callback is offered anyway)
      # hang_up_on_wait absent: nobody hangs up on hearing a wait (none is announced)
      agents: {{answer_min_seconds: 0, answer_max_seconds: 0, miss_probability: 0}}
    """


def _flat_curve() -> Curve:
    """Poisson arrivals at CALLS_PER_SECOND all day: the same expected calls in every
    interval (the replay draws Poisson counts per interval, uniform times within it)."""
    per_interval = CALLS_PER_SECOND * INTERVAL_MINUTES * 60
    return Curve.from_columns(
        "flat", INTERVAL_MINUTES, {"b": [per_interval] * (24 * 60 // INTERVAL_MINUTES)}
    )


@functools.cache
def _simulate(agents: int, patience_seconds: float, seed: int) -> Result:
    site = site_from_yaml(_site_yaml(agents, patience_seconds))
    result = replay(site, _flat_curve(), seed)
    _check_model_assumptions(result, agents)
    return result


def _check_model_assumptions(result: Result, agents: int) -> None:
    """What the configuration promises, seen in the result."""
    assert result.redials == 0
    assert set(result.outcomes) <= {"answered", "abandoned"}, result.outcomes
    total = result.total
    assert total.short_abandoned == total.blocked == total.overflowed == total.callbacks == 0
    assert total.answered + total.abandoned == total.calls == result.calls  # all ended
    assert all(i.agents_staffed == agents for i in result.intervals)
    assert result.pools["p"].agents == agents


# ----------------------------------------------------------------- batch means


def _counts(f: Figures) -> tuple[int, int]:
    """(answered within T, abandoned after T) of one interval, from its ratios."""
    within = round((f.service_level_asterisk or 0.0) * f.answered)
    if f.abandoned == 0:
        return within, 0
    if not f.service_level:
        raise AssertionError(
            "Figures has no count of calls abandoned after T (nor answered within T): "
            "with none answered within T the service level is 0 whatever the abandons, "
            "so abandoned-after-T cannot be recovered for this interval"
        )
    return within, round(within / f.service_level) - f.answered


Batch = dict[str, float]


def _batches(result: Result) -> list[Batch]:
    """The day after warm-up, cut into batches of BATCH_INTERVALS intervals; for each,
    the figures as engine/metrics.py defines them, over the calls that joined in it."""
    day = result.intervals[WARM_UP_INTERVALS:]
    assert len(day) % BATCH_INTERVALS == 0
    batches = []
    for start in range(0, len(day), BATCH_INTERVALS):
        chunk = day[start : start + BATCH_INTERVALS]
        calls = answered = abandoned = within = abandoned_after = 0
        wait = 0.0
        for interval in chunk:
            f = interval.figures
            w, a = _counts(f)
            calls += f.calls
            answered += f.answered
            abandoned += f.abandoned
            within += w
            abandoned_after += a
            wait += (f.asa_seconds or 0.0) * f.answered
        occupancy = [i.occupancy["p"] for i in chunk]
        assert all(o is not None for o in occupancy)
        batches.append(
            {
                "service_level": within / (answered + abandoned_after),
                "answered_within": within / calls,
                "asa_seconds": wait / answered,
                "abandoned": abandoned / calls,
                # Every agent is logged in all the time: equal weights per interval.
                "occupancy": math.fsum(o for o in occupancy if o is not None) / len(occupancy),
            }
        )
    return batches


def _pooled_batches(agents: int, patience_seconds: float, seeds: tuple[int, ...]) -> list[Batch]:
    return [b for seed in seeds for b in _batches(_simulate(agents, patience_seconds, seed))]


THEORY: dict[str, Callable[[Staffing], float]] = {
    "service_level": lambda s: s.service_level,
    "answered_within": lambda s: s.answered_within,
    "asa_seconds": lambda s: s.asa_seconds,
    "abandoned": lambda s: s.prob_abandon,
    "occupancy": lambda s: s.occupancy,  # answered load / agents (abandons excluded)
}


class Comparison:
    """One figure: batch mean and standard error against the formula."""

    def __init__(self, name: str, batches: list[Batch], theory: Staffing) -> None:
        values = [b[name] for b in batches]
        self.name = name
        self.simulated = statistics.fmean(values)
        self.se = statistics.stdev(values) / math.sqrt(len(values))
        self.theory = THEORY[name](theory)
        self.tolerance = max(SIGMAS * self.se, FLOORS[name])

    @property
    def agrees(self) -> bool:
        return abs(self.simulated - self.theory) <= self.tolerance

    def __str__(self) -> str:
        z = (self.simulated - self.theory) / self.se if self.se else math.inf
        return (
            f"{self.name:16s} simulated {self.simulated:9.4f} ± {self.se:.4f} (SE)  "
            f"theory {self.theory:9.4f}  diff {self.simulated - self.theory:+.4f} = {z:+.1f} SE  "
            f"tolerance {self.tolerance:.4f}  {'ok' if self.agrees else 'OUT'}"
        )


def _compare(model: str, agents: int, theory_agents: int) -> list[Comparison]:
    """The replay of `model`'s configuration with `agents` agents against the
    formula for `theory_agents`."""
    _, patience_seconds, names = MODELS[model]
    batches = _pooled_batches(agents, patience_seconds, SEEDS[model])
    traffic = Traffic(
        CALLS_PER_SECOND,
        AHT_SECONDS,
        None if model == "erlang_c" else patience_seconds,
    )
    theory = evaluate(traffic, theory_agents, SL_SECONDS)
    return [Comparison(name, batches, theory) for name in names]


def _table(title: str, comparisons: list[Comparison]) -> str:
    return "\n".join([title, *(f"  {c}" for c in comparisons)])


ERLANG_C_FIGURES = ("service_level", "asa_seconds", "occupancy")
ERLANG_A_FIGURES = ("service_level", "answered_within", "asa_seconds", "abandoned", "occupancy")

MODELS = {
    # model: (agents, patience, figures compared)
    "erlang_c": (ERLANG_C_AGENTS, NEVER_SECONDS, ERLANG_C_FIGURES),
    "erlang_a": (ERLANG_A_AGENTS, PATIENCE_SECONDS, ERLANG_A_FIGURES),
}


MUST_REJECT = {
    "erlang_c": {"service_level", "occupancy"},
    "erlang_a": {"service_level", "answered_within", "abandoned"},
}
"""Figures of the formula for N agents that the replay with N - 1 must reject. With
other seeds than SEEDS they were rejected by 1.9-2.7 times the tolerance (Erlang C)
and 1.4-1.9 times (Erlang A)."""

# ----------------------------------------------------------------- the tests


def test_flat_day_without_abandonment_matches_erlang_c() -> None:
    agents, patience, _ = MODELS["erlang_c"]
    for seed in SEEDS["erlang_c"]:
        assert _simulate(agents, patience, seed).abandoned == 0  # the Erlang C assumption
    comparisons = _compare("erlang_c", agents, agents)
    table = _table(f"Erlang C, {agents} agents, 27 Erlangs, T = {SL_SECONDS:g} s", comparisons)
    assert all(c.agrees for c in comparisons), table


def test_flat_day_with_exponential_patience_matches_erlang_a() -> None:
    agents, patience, _ = MODELS["erlang_a"]
    comparisons = _compare("erlang_a", agents, agents)
    table = _table(
        f"Erlang A, {agents} agents, 27 Erlangs, patience {patience:g} s, T = {SL_SECONDS:g} s",
        comparisons,
    )
    assert all(c.agrees for c in comparisons), table


@pytest.mark.parametrize("model", list(MODELS))
def test_one_agent_fewer_is_told_apart(model: str) -> None:
    """The comparison has teeth: with N - 1 agents the replay agrees with Erlang for
    N - 1, and Erlang for N is rejected by the same tolerance: its service level and
    occupancy in Erlang C; its service level, answered-within-T and abandonment in
    Erlang A (there occupancy is near 1 either way, 0.952 against 0.964, and its
    rejection is too close a call to require; the failure table shows it)."""
    agents = MODELS[model][0]
    fewer = _compare(model, agents - 1, agents - 1)
    against_n = _compare(model, agents - 1, agents)
    table = "\n".join(
        [
            _table(f"{model}: replay with {agents - 1} agents vs formula for {agents - 1}", fewer),
            _table(f"{model}: replay with {agents - 1} agents vs formula for {agents}", against_n),
        ]
    )
    assert all(c.agrees for c in fewer), table
    assert all(not c.agrees for c in against_n if c.name in MUST_REJECT[model]), table
