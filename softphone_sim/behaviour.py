"""Draws from the behaviour models of the `simulation:` configuration.

Each function takes the `random.Random` of the run, so one seed gives one day.
"""

from __future__ import annotations

import bisect
import math
import random

from acd.config.schema import Duration, Patience


def check_duration(model: Duration, what: str) -> None:
    """Raise ValueError naming `what` if the model lacks its parameter."""
    if model.kind == "lognormal" and model.median_seconds is None:
        raise ValueError(f"{what}: a lognormal duration needs median_seconds")
    if model.kind == "exponential" and model.mean_seconds is None:
        raise ValueError(f"{what}: an exponential duration needs mean_seconds")


def duration(model: Duration, rng: random.Random) -> float:
    if model.kind == "exponential":
        assert model.mean_seconds is not None
        return rng.expovariate(1.0 / model.mean_seconds)
    assert model.median_seconds is not None
    return model.median_seconds * math.exp(rng.gauss(0.0, model.sigma))


class PatienceDraw:
    """Samples how long a caller waits in a queue before hanging up.

    The table form inverts the empirical survival curve: draw U uniform, find the
    time at which the share still waiting falls to U (linear between points)."""

    def __init__(self, model: Patience) -> None:
        self.model = model
        if model.kind == "table":
            points = sorted((p.after_seconds, p.still_waiting) for p in model.points)
            # survival falls with time; bisect needs a rising key: use 1 - survival
            self._times = [t for t, _ in points]
            self._gone = [1.0 - s for _, s in points]
        elif model.kind == "exponential" and model.mean_seconds is None:
            raise ValueError("simulation patience: exponential needs mean_seconds")
        elif model.kind == "lognormal" and model.median_seconds is None:
            raise ValueError("simulation patience: lognormal needs median_seconds")

    def draw(self, rng: random.Random) -> float:
        model = self.model
        if model.kind == "exponential":
            assert model.mean_seconds is not None
            return rng.expovariate(1.0 / model.mean_seconds)
        if model.kind == "lognormal":
            assert model.median_seconds is not None
            return model.median_seconds * math.exp(rng.gauss(0.0, model.sigma))
        u = rng.random()
        i = bisect.bisect_left(self._gone, u)
        if i == 0:
            return self._times[0]
        if i >= len(self._gone):
            return self._times[-1]
        g0, g1 = self._gone[i - 1], self._gone[i]
        t0, t1 = self._times[i - 1], self._times[i]
        return t0 if g1 == g0 else t0 + (u - g0) / (g1 - g0) * (t1 - t0)
