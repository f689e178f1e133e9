"""Live and virtual time agree: the same curve and seed through the virtual PBX with
its simulated people + the live controller (real sockets on 127.0.0.1, one event
loop on a virtual clock) and through `acd simulate` give the same answer rate within
statistical error, and every answer the live engine counted is an answer a simulated
caller lived.

The live side is what `acd pbx` and `acd serve` run, in one loop instead of two
processes, so the hour takes the CPU time it needs and the machine's load cannot
change what the callers live."""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path

from acd.ari.client import AriClient
from acd.ari.clock import Clock
from acd.ari.controller import Controller
from acd.config.loader import load_site
from acd.config.schema import SiteConfig
from acd.engine import Engine
from acd.softphone_sim.curves import Curve, load_curve
from acd.softphone_sim.pbx import VirtualPbx
from acd.softphone_sim.pbx.population import Population, Summary
from acd.softphone_sim.people import day_start
from acd.softphone_sim.replay import replay
from tests.vtime import run_virtual

FIXTURES = Path(__file__).parent / "fixtures" / "live"
SITE = str(FIXTURES / "consistency.yaml")
CURVE = str(FIXTURES / "consistency.csv")
START_MINUTE = 10 * 60
MINUTES = 60
SEED = 1


async def live_hour(site: SiteConfig, curve: Curve) -> tuple[Summary, dict[str, float]]:
    """One hour of the curve lived through the virtual PBX and the live controller:
    (the callers' summary, the engine's day totals)."""
    assert site.simulation is not None
    start = day_start(site) + START_MINUTE * 60.0
    pbx = VirtualPbx(
        start=start,
        users={"acd": "pw"},
        prompt_seconds_per_sound=site.simulation.prompt_seconds_per_sound,
    )
    population = Population(
        site, curve, pbx, seed=SEED, start_minute=START_MINUTE, duration_minutes=MINUTES
    )
    over = asyncio.Event()
    population.on_done = over.set
    port = await pbx.start("127.0.0.1", 0)
    try:
        async with (
            AriClient(f"http://127.0.0.1:{port}", "acd", "pw") as client,
            asyncio.TaskGroup() as tg,
        ):
            clock = Clock(1.0, start)
            engine = Engine(site, rng=random.Random(SEED), start=clock.now())
            controller = Controller(site, engine, client, clock, spawn=tg.create_task)
            events = tg.create_task(controller.run())
            while not pbx.app_connected:  # the people start when someone takes calls
                await asyncio.sleep(0.01)
            population.start()
            await over.wait()
            events.cancel()
            totals = engine.snapshot(clock.now()).totals
    finally:
        await pbx.stop()
    answered, rate = totals["answered"], totals["answer_rate"]
    assert answered is not None and rate is not None
    return population.summary(), {"answered": float(answered), "answer_rate": float(rate)}


def test_live_and_replay_answer_rates_agree() -> None:
    site, curve = load_site(SITE), load_curve(CURVE)
    live, engine = run_virtual(live_hour(site, curve), end=6 * 3600.0)

    result = replay(site, curve, SEED)
    replayed = result.outcomes.get("answered", 0) / result.calls
    assert result.answer_rate is not None

    # Every answer a caller lived, the engine counted. The engine counts an answer when
    # it connects; a caller whose hang-up crossed the bridging is one it counts and the
    # caller did not live (a race any ACD has): a handful at most.
    assert 0 <= engine["answered"] - live.answered_by_agent <= 3
    assert live.in_progress == 0
    # Same arrivals (the seed is split as the replay splits it): within a few percent,
    # as redials depend on who gave up.
    assert abs(live.calls - result.calls) <= 0.05 * result.calls
    # The caller-side answer rates agree within 4 standard errors of a difference.
    assert live.answer_rate is not None
    p = (live.answer_rate + replayed) / 2
    se = math.sqrt(2 * p * (1 - p) / result.calls)
    assert abs(live.answer_rate - replayed) < 4 * se, (live.answer_rate, replayed)
    assert abs(engine["answer_rate"] - result.answer_rate) < 4 * se
