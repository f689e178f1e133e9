"""The reference `benchmarks/replay.py` measures the replay against: a bare M/M/c+M
queue in simpy, fed the same number of calls over the same day shape, with as many
agents as the site's roster.

    python benchmarks/simpy_reference.py INPUT.json

INPUT.json: {"calls": N, "agents": c, "weights": [expected calls per interval, ...],
"interval_seconds": 900, "handle_seconds": 180, "patience_seconds": 225, "seed": 1}.
Prints "answered abandoned" on one line. It imports nothing of the project, so that
its whole-process time is simpy's own: one process per call, one shared resource,
each caller waiting for an agent or their patience, whichever comes first. No IVR,
no skills, no pools, no vendors, no callbacks: the least a queue simulation does.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Generator
from typing import Any

import simpy


def run(spec: dict[str, Any]) -> tuple[int, int]:
    rng = random.Random(spec["seed"])
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=spec["agents"])
    handle, patience = spec["handle_seconds"], spec["patience_seconds"]
    counts = {"answered": 0, "abandoned": 0}

    def caller() -> Generator[simpy.Event, Any, None]:
        with agents.request() as seat:
            outcome = yield seat | env.timeout(rng.expovariate(1.0 / patience))
            if seat not in outcome:
                counts["abandoned"] += 1
                return
            counts["answered"] += 1
            yield env.timeout(rng.expovariate(1.0 / handle))

    # Arrival times: the day's calls spread over the intervals as the curve weighs
    # them, uniformly within each (a Poisson process given its count).
    weights: list[float] = spec["weights"]
    width: float = spec["interval_seconds"]
    slots = rng.choices(range(len(weights)), weights=weights, k=spec["calls"])
    times = sorted(slot * width + rng.random() * width for slot in slots)

    def arrivals() -> Generator[simpy.Event, Any, None]:
        for at in times:
            yield env.timeout(at - env.now)
            env.process(caller())

    env.process(arrivals())
    env.run()
    return counts["answered"], counts["abandoned"]


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    answered, abandoned = run(spec)
    print(answered, abandoned)


if __name__ == "__main__":
    main()
