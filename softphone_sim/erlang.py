"""Queueing formulas for staffing plans and for checking the simulator.

Two models of one queue served by `agents` identical agents, Poisson arrivals at
`calls_per_second`, exponential handling times with mean `aht_seconds`, first come
first served:

- **Erlang C** (M/M/c): callers wait as long as it takes. Needs load < agents.
- **Erlang A** (M/M/c+M, Palm's model): each caller gives up after an exponential
  patience with mean `patience_seconds`, unless answered first. Always stable.

Units: rates in calls per second (`Traffic.per_hour` converts from calls per hour),
times in seconds, probabilities and fractions in [0, 1]. The offered load is
A = lambda * AHT in Erlangs.

Figures are named as in `engine/metrics.py`, so the simulator's counters and these
formulas can be compared directly:

- `service_level` is the project's convention: answered within T /
  (answered + abandoned after T). In Erlang C nobody abandons, so it is P(W <= T).
- `answered_within` is P(answered within T) over all arrivals (abandoned calls in the
  denominator too). In Erlang C it equals `service_level`.
- `asa_seconds` is the mean wait of answered calls (zero waits included);
  `mean_wait_seconds` the mean time in queue of all calls, answered or abandoned.
- `occupancy` is the mean fraction of agents busy.

Erlang C is computed through Erlang B by the recursion
B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)), and C = c B / (c - A (1 - B)), which
never forms a power or a factorial, so it is exact to rounding for thousands of
agents (the standard recursion; see e.g. Cooper, *Introduction to Queueing Theory*, 2nd ed., 1981).

Erlang A follows Garnett, Mandelbaum & Reiman, "Designing a call center with
impatient customers", Manufacturing & Service Operations Management 4(3):208-227,
2002, and Mandelbaum & Zeltyn, "Service engineering in action: the Palm/Erlang-A
queue, with applications to call centers" (Advances in Services Innovations,
Springer, 2007). The method, with its derivation, is in `evaluate_erlang_a`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

SECONDS_PER_HOUR = 3600.0

TRUNCATION = 1e-15
"""Erlang A: queue states are added until their probability, relative to the most
likely state, falls below this (and keeps falling)."""

MAX_QUEUE_STATES = 2_000_000
"""Erlang A: the most queue states computed before giving up (a patience so long,
against an overload so large, that the queue is millions deep)."""

MAX_AGENTS = 200_000
"""`agents_needed` gives up above this staffing."""

Model = Literal["erlang_c", "erlang_a"]


class UnstableError(ValueError):
    """Erlang C with load >= agents: the queue grows without bound."""


class UnreachableTargetError(ValueError):
    """No staffing up to `MAX_AGENTS` meets the target."""


def _check_finite(name: str, value: float, *, positive: bool) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be above zero, got {value}")
    if not positive and value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _check_agents(agents: int) -> None:
    if not isinstance(agents, int) or isinstance(agents, bool) or agents < 1:
        raise ValueError(f"agents must be a whole number of at least 1, got {agents!r}")


def _check_fraction(name: str, value: float) -> None:
    _check_finite(name, value, positive=False)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction strictly between 0 and 1, got {value}")


@dataclass(frozen=True)
class Traffic:
    """The offered traffic of one queue.

    `calls_per_second` > 0, `aht_seconds` > 0 (talk plus after-call work), and
    `patience_seconds` > 0, the mean time a caller waits before hanging up, or None
    for callers who never hang up (Erlang C). Raises ValueError otherwise.
    """

    calls_per_second: float
    aht_seconds: float
    patience_seconds: float | None = None

    def __post_init__(self) -> None:
        _check_finite("calls per second", self.calls_per_second, positive=True)
        _check_finite("AHT seconds", self.aht_seconds, positive=True)
        if self.patience_seconds is not None:
            _check_finite("patience seconds", self.patience_seconds, positive=True)

    @classmethod
    def per_hour(
        cls, calls_per_hour: float, aht_seconds: float, patience_seconds: float | None = None
    ) -> Traffic:
        """The same traffic, with the arrival rate given in calls per hour."""
        _check_finite("calls per hour", calls_per_hour, positive=True)
        return cls(calls_per_hour / SECONDS_PER_HOUR, aht_seconds, patience_seconds)

    @property
    def calls_per_hour(self) -> float:
        return self.calls_per_second * SECONDS_PER_HOUR

    @property
    def load_erlangs(self) -> float:
        """Offered load A = lambda * AHT: the mean number of agents the calls would keep busy."""
        return self.calls_per_second * self.aht_seconds

    @property
    def model(self) -> Model:
        return "erlang_c" if self.patience_seconds is None else "erlang_a"


@dataclass(frozen=True)
class Staffing:
    """Steady-state figures of one queue with `agents` agents (see the module docstring).

    Probabilities are per arriving call. `sl_seconds` is T, the service-level threshold.
    """

    model: Model
    traffic: Traffic
    agents: int
    sl_seconds: float
    prob_wait: float
    """P(W > 0): an arriving call finds every agent busy."""
    service_level: float
    """Answered within T / (answered + abandoned after T), as in engine/metrics.py."""
    answered_within: float
    """P(answered within T), over all arriving calls."""
    prob_abandon: float
    """P(the caller hangs up before an agent answers). 0 in Erlang C."""
    abandoned_after: float
    """P(the caller hangs up after waiting more than T). 0 in Erlang C."""
    asa_seconds: float
    """Mean wait of answered calls, zero waits included."""
    mean_wait_seconds: float
    """Mean time in queue of all calls, answered or abandoned."""
    occupancy: float
    """Mean fraction of agents busy: answered load / agents."""
    mean_queue_length: float
    """Mean number of calls waiting (not yet with an agent)."""
    mean_busy_agents: float

    @property
    def answer_rate(self) -> float:
        """Answered / offered = 1 - P(abandon)."""
        return 1.0 - self.prob_abandon

    @property
    def service_level_asterisk(self) -> float:
        """Asterisk's convention: answered within T / answered."""
        return self.answered_within / self.answer_rate


# --------------------------------------------------------------------------- Erlang C


def erlang_b(agents: int, load_erlangs: float) -> float:
    """Erlang B: P(all `agents` busy) in M/M/c/c (blocked calls lost), load in Erlangs.

    The recursion B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)) keeps every intermediate
    value in [0, 1], so there is no overflow for any number of agents.
    """
    if not isinstance(agents, int) or isinstance(agents, bool) or agents < 0:
        raise ValueError(f"agents must be a whole number >= 0, got {agents!r}")
    _check_finite("load in Erlangs", load_erlangs, positive=False)
    b = 1.0
    for k in range(1, agents + 1):
        ab = load_erlangs * b
        b = ab / (k + ab)
    return b


def erlang_c(agents: int, load_erlangs: float) -> float:
    """Erlang C: P(W > 0) in M/M/c for load A < c agents; raises UnstableError if A >= c.

    C = c B / (c - A (1 - B)) with B = erlang_b(c, A): the standard identity between
    the two formulas, which keeps the stability of the B recursion.
    """
    _check_agents(agents)
    _check_finite("load in Erlangs", load_erlangs, positive=False)
    if load_erlangs >= agents:
        raise UnstableError(
            f"unstable: a load of {load_erlangs:.4g} Erlangs needs more than {agents} agents "
            "(without abandonment the queue grows without bound)"
        )
    b = erlang_b(agents, load_erlangs)
    return agents * b / (agents - load_erlangs * (1.0 - b))


def evaluate_erlang_c(traffic: Traffic, agents: int, sl_seconds: float) -> Staffing:
    """Erlang C figures of `traffic` (its patience is ignored) with `agents` agents.

    With C = P(W > 0), mu = 1/AHT and lambda the arrival rate, the wait of a delayed
    call is exponential with rate c mu - lambda, so
    P(W <= T) = 1 - C exp(-(c mu - lambda) T) and ASA = C / (c mu - lambda).
    Raises UnstableError when load >= agents.
    """
    _check_finite("service-level seconds", sl_seconds, positive=False)
    load = traffic.load_erlangs
    c = erlang_c(agents, load)
    drain = agents / traffic.aht_seconds - traffic.calls_per_second  # c mu - lambda > 0
    sl = 1.0 - c * math.exp(-drain * sl_seconds)
    asa = c / drain
    return Staffing(
        model="erlang_c",
        traffic=traffic,
        agents=agents,
        sl_seconds=sl_seconds,
        prob_wait=c,
        service_level=sl,
        answered_within=sl,
        prob_abandon=0.0,
        abandoned_after=0.0,
        asa_seconds=asa,
        mean_wait_seconds=asa,
        occupancy=load / agents,
        mean_queue_length=traffic.calls_per_second * asa,  # Little's law
        mean_busy_agents=load,
    )


# --------------------------------------------------------------------------- Erlang A


def erlang_a_distribution(traffic: Traffic, agents: int) -> list[float]:
    """Stationary P(n calls in system), n = 0, 1, ..., of M/M/c+M, truncated.

    Birth-death chain: birth rate lambda; death rate n mu for n <= c, and
    c mu + (n - c) gamma above, gamma = 1 / mean patience. p_n = p_{n-1} lambda / d_n.
    The products are kept as logarithms (A^c / c! overflows a float from c ~ 170) and
    scaled by the largest before exponentiating. Queue states are added until the
    chain is past its mode (d_n > lambda, so later terms only fall) and a state's
    probability is below TRUNCATION times the largest; the neglected tail is then
    below about TRUNCATION / (1 - lambda / d_n) relative. Raises ValueError past
    MAX_QUEUE_STATES queue states.
    """
    _check_agents(agents)
    if traffic.patience_seconds is None:
        raise ValueError("Erlang A needs a mean patience (patience_seconds)")
    lam = traffic.calls_per_second
    mu = 1.0 / traffic.aht_seconds
    gamma = 1.0 / traffic.patience_seconds
    log_lam = math.log(lam)
    logs = [0.0]
    log_w = 0.0
    for n in range(1, agents + 1):
        log_w += log_lam - math.log(n * mu)
        logs.append(log_w)
    peak = max(logs)
    log_cut = math.log(TRUNCATION)
    c_mu = agents * mu
    j = 0
    while True:
        j += 1
        death = c_mu + j * gamma
        log_w += log_lam - math.log(death)
        logs.append(log_w)
        peak = max(peak, log_w)
        if death > lam and log_w - peak < log_cut:
            break
        if j >= MAX_QUEUE_STATES:
            raise ValueError(
                f"Erlang A: the queue is still growing after {MAX_QUEUE_STATES} waiting "
                "calls (patience too long for this overload); use a shorter patience "
                "or more agents"
            )
    weights = [math.exp(x - peak) for x in logs]
    total = math.fsum(weights)
    return [w / total for w in weights]


def evaluate_erlang_a(traffic: Traffic, agents: int, sl_seconds: float) -> Staffing:
    """Erlang A (M/M/c+M) figures of `traffic` with `agents` agents; needs a patience.

    Method. p_n is `erlang_a_distribution`; by PASTA an arriving call sees it.

    - P(wait) = sum_{n >= c} p_n; L_q = sum (n - c) p_n; E[busy] = sum min(n, c) p_n.
    - P(abandon) = gamma L_q / lambda (abandonment flow over arrival flow), equal to
      (lambda - mu E[busy]) / lambda by flow balance.

    The waiting-time figures follow a tagged call that finds n = c + j (j calls ahead
    of it). Calls behind it do not matter under FCFS. Its *offered* wait V, the time
    until an agent would take it if it never hung up, is a sum of exponential phases
    with rates c mu + i gamma, i = j, j-1, ..., 0: each phase ends when an agent frees
    (rate c mu) or one of the i calls ahead hangs up (rate i gamma). It is answered
    iff its own patience tau ~ Exp(gamma) exceeds V, and it waits min(V, tau).

    With a = c mu / gamma and m = j + 1, gamma V is a sum of Exp(a + i), i = 0..j, and
    its Laplace transform prod (a + i) / (a + i + s) = E[U^s] for U ~ Beta(a, m); so
    exp(-gamma V) ~ Beta(a, m). Hence, with x = exp(-gamma T):

    - P(answered | j) = E[exp(-gamma V)] = E[U] = a / (a + m) = c mu / (c mu + m gamma);
    - P(answered within T | j) = E[U; U >= x] = a / (a + m) P(Beta(a + 1, m) >= x);
    - P(still waiting at T | j) = P(tau > T) P(V > T) = x P(Beta(a, m) < x);
    - E[wait | j] = E[(1 - U)] / gamma = m / (c mu + m gamma);
    - E[wait; answered | j] = E[-ln(U) U] / gamma
      = c mu / (c mu + m gamma) * sum_{i=1..m} 1 / (c mu + i gamma).

    For integer m, P(Beta(r, m) < x) = I_x(r, m) = sum_{k=0}^{m-1} NB(k; r, x), the
    negative binomial probabilities Gamma(r + k) / (Gamma(r) k!) x^r (1 - x)^k (m - 1
    integrations by parts of the incomplete beta integral). They are summed
    incrementally over j, each term from the last in logarithms (x^r underflows for
    long T, while every term stays <= 1). Abandoned within T = 1 - answered within T
    - still waiting at T; abandoned after T = P(abandon | j) - abandoned within T.

    The model and the figures are those of Garnett, Mandelbaum & Reiman (2002) and
    Mandelbaum & Zeltyn (2007); the per-state formulas above are derived here rather
    than copied from their incomplete-gamma expressions, and tests/test_erlang.py
    checks them against an independent uniformization of the tagged call's Markov
    chain (agreement to ~1e-14) and against a small simulation.
    """
    if traffic.patience_seconds is None:
        raise ValueError("Erlang A needs a mean patience (patience_seconds)")
    _check_finite("service-level seconds", sl_seconds, positive=False)
    p = erlang_a_distribution(traffic, agents)
    lam = traffic.calls_per_second
    mu = 1.0 / traffic.aht_seconds
    gamma = 1.0 / traffic.patience_seconds
    c = agents
    c_mu = c * mu
    a = c_mu / gamma

    no_wait = math.fsum(p[:c])
    busy = math.fsum(n * p[n] for n in range(c)) + c * (1.0 - no_wait)
    queue = p[c:]  # queue[j]: P(c + j in system), j calls ahead of an arrival
    lq = math.fsum(j * q for j, q in enumerate(queue))

    t = sl_seconds
    x = math.exp(-gamma * t)
    log_x = -gamma * t
    log_1mx = math.log(-math.expm1(-gamma * t)) if t > 0 else -math.inf
    # Negative-binomial terms for r = a + 1 (answered within T) and r = a (still
    # waiting at T); term_k = term_{k-1} (r + k - 1) / k (1 - x), in logarithms.
    log_t1 = (a + 1.0) * log_x
    log_t0 = a * log_x
    cdf1 = 0.0
    cdf0 = 0.0
    harmonic = 0.0
    answered_within_q: list[float] = []
    abandoned_after_q: list[float] = []
    answered_wait_q: list[float] = []
    for j, q in enumerate(queue):
        m = j + 1
        if j > 0:
            if t > 0:
                log_t1 += math.log((a + j) / j) + log_1mx
                log_t0 += math.log((a + j - 1.0) / j) + log_1mx
            else:
                log_t1 = log_t0 = -math.inf
        cdf1 = min(1.0, cdf1 + math.exp(log_t1))
        cdf0 = min(1.0, cdf0 + math.exp(log_t0))
        answered = c_mu / (c_mu + m * gamma)
        within = answered * (1.0 - cdf1)
        waiting_at_t = x * cdf0
        abandoned_within = max(0.0, 1.0 - within - waiting_at_t)
        abandoned_after = max(0.0, (1.0 - answered) - abandoned_within)
        harmonic += 1.0 / (c_mu + m * gamma)
        answered_within_q.append(q * within)
        abandoned_after_q.append(q * abandoned_after)
        answered_wait_q.append(q * answered * harmonic)

    prob_abandon = gamma * lq / lam
    answered_all = 1.0 - prob_abandon
    answered_within = no_wait + math.fsum(answered_within_q)
    abandoned_after = math.fsum(abandoned_after_q)
    return Staffing(
        model="erlang_a",
        traffic=traffic,
        agents=agents,
        sl_seconds=sl_seconds,
        prob_wait=1.0 - no_wait,
        service_level=answered_within / (answered_all + abandoned_after),
        answered_within=answered_within,
        prob_abandon=prob_abandon,
        abandoned_after=abandoned_after,
        asa_seconds=math.fsum(answered_wait_q) / answered_all,
        mean_wait_seconds=lq / lam,  # Little's law; equals sum_j p_{c+j} m / (c mu + m gamma)
        occupancy=busy / c,
        mean_queue_length=lq,
        mean_busy_agents=busy,
    )


def evaluate(traffic: Traffic, agents: int, sl_seconds: float = 20.0) -> Staffing:
    """Erlang A when `traffic` has a patience, else Erlang C (which may raise UnstableError)."""
    if traffic.patience_seconds is None:
        return evaluate_erlang_c(traffic, agents, sl_seconds)
    return evaluate_erlang_a(traffic, agents, sl_seconds)


# --------------------------------------------------------------------------- staffing


@dataclass(frozen=True)
class Target:
    """What a staffing must achieve; every target given must hold. Fractions in (0, 1).

    - `service_level`: answered within `within_seconds` / (answered + abandoned after);
    - `answered_within`: P(answered within `within_seconds`) over all calls;
    - `max_asa_seconds`: mean wait of answered calls;
    - `max_occupancy`: mean fraction of agents busy (caps agents' load);
    - `max_abandon`, `min_answer_rate`: Erlang A only (no one abandons in Erlang C).
    """

    service_level: float | None = None
    within_seconds: float = 20.0
    answered_within: float | None = None
    max_asa_seconds: float | None = None
    max_occupancy: float | None = None
    max_abandon: float | None = None
    min_answer_rate: float | None = None

    def __post_init__(self) -> None:
        _check_finite("service-level seconds", self.within_seconds, positive=False)
        for name in (
            "service_level",
            "answered_within",
            "max_occupancy",
            "max_abandon",
            "min_answer_rate",
        ):
            value = getattr(self, name)
            if value is not None:
                _check_fraction(name.replace("_", " "), value)
        if self.max_asa_seconds is not None:
            _check_finite("ASA target seconds", self.max_asa_seconds, positive=True)

    @property
    def empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.service_level,
                self.answered_within,
                self.max_asa_seconds,
                self.max_occupancy,
                self.max_abandon,
                self.min_answer_rate,
            )
        )

    def met_by(self, s: Staffing) -> bool:
        """Whether the figures `s` (computed with T = within_seconds) meet every target."""
        return (
            (self.service_level is None or s.service_level >= self.service_level)
            and (self.answered_within is None or s.answered_within >= self.answered_within)
            and (self.max_asa_seconds is None or s.asa_seconds <= self.max_asa_seconds)
            and (self.max_occupancy is None or s.occupancy <= self.max_occupancy)
            and (self.max_abandon is None or s.prob_abandon <= self.max_abandon)
            and (self.min_answer_rate is None or s.answer_rate >= self.min_answer_rate)
        )


def agents_needed(traffic: Traffic, target: Target) -> Staffing:
    """The fewest agents meeting `target`, with their figures (T = target.within_seconds).

    Erlang A if `traffic` has a patience, else Erlang C. Every figure a target names
    improves with each added agent, so the search doubles its step from a lower bound
    until the target holds, then bisects (about 2 log2(agents) evaluations).
    Lower bounds: Erlang C needs more agents than the load; abandonment is at least
    1 - c / A in Erlang A (at most c mu calls per second are answered).
    Raises ValueError for an empty target or an abandonment target in Erlang C, and
    UnreachableTargetError above MAX_AGENTS.
    """
    if target.empty:
        raise ValueError("no target given")
    load = traffic.load_erlangs
    if traffic.patience_seconds is None:
        if target.max_abandon is not None or target.min_answer_rate is not None:
            raise ValueError(
                "abandonment and answer-rate targets need a mean patience (Erlang A); "
                "in Erlang C no caller abandons"
            )
        low = math.floor(load) + 1
    else:
        low = 1
        floor_ab = [v for v in (target.max_abandon,) if v is not None]
        if target.min_answer_rate is not None:
            floor_ab.append(1.0 - target.min_answer_rate)
        if floor_ab:
            low = max(low, math.ceil(load * (1.0 - min(floor_ab))))
    if target.max_occupancy is not None and traffic.patience_seconds is None:
        low = max(low, math.ceil(load / target.max_occupancy))
    t = target.within_seconds

    def meets(c: int) -> Staffing | None:
        s = evaluate(traffic, c, t)
        return s if target.met_by(s) else None

    if low > MAX_AGENTS:
        raise UnreachableTargetError(
            f"a load of {load:.6g} Erlangs needs more than {MAX_AGENTS} agents, the limit"
        )
    first = meets(low)
    if first is not None:
        return first
    # Invariant: `failing` misses the target, `passing` meets it with figures `best`.
    failing, step = low, 1
    while True:
        passing = failing + step
        if passing > MAX_AGENTS:
            raise UnreachableTargetError(f"no staffing up to {MAX_AGENTS} agents meets the target")
        found = meets(passing)
        if found is not None:
            best = found
            break
        failing, step = passing, step * 2
    while passing - failing > 1:
        middle = (failing + passing) // 2
        found = meets(middle)
        if found is not None:
            passing, best = middle, found
        else:
            failing = middle
    return best


def staffing_table(
    traffic: Traffic, agents: list[int], sl_seconds: float
) -> list[Staffing | UnstableError]:
    """`evaluate` for each staffing in `agents`; an unstable Erlang C row is its error."""
    rows: list[Staffing | UnstableError] = []
    for c in agents:
        try:
            rows.append(evaluate(traffic, c, sl_seconds))
        except UnstableError as error:
            rows.append(error)
    return rows
