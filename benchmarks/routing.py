"""Routing decisions per second, at 400 agents / 10 skills and 10,000 agents / 100 skills.

    python benchmarks/routing.py [--cycles N] [--seed S]

A *decision* is one choice the ACD makes: the best eligible agent for a caller who
joins a queue, or the best waiting call for an agent who becomes free. The floor
is kept in a surge steady state (every agent busy, a backlog in every queue) and
each cycle is what a real floor does: an agent hangs up (wrap-up ends, the agent
takes the next caller: decision 1), answers that caller, and a new caller joins a
queue and finds nobody free (decision 2). Timings cover the whole `handle()` path
(events in, commands out), not only the index look-ups; the figure printed is
decisions per second of that whole path on one core.

Sites are built in code: each agent has 3 skills at random levels, one queue per
skill with the `skill_level` strategy, half the queues with a relaxation step.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acd import native
from acd.config.schema import SiteConfig
from acd.engine import Engine
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.states import AgentState


def build_site(agents: int, skills: int, rng: random.Random) -> SiteConfig:
    queues = {}
    nodes: dict[str, object] = {"entry": {"kind": "hangup"}}
    by_dnis = {}
    for k in range(skills):
        queue: dict[str, object] = {
            "skill": f"s{k}",
            "pools": ["inhouse"],
            "min_level": 2,
            "strategy": "skill_level",
            "weight": k % 3,
            "wrap_up_seconds": 0,
            "ring_timeout_seconds": 15,
        }
        if k % 2:
            queue["relax"] = [{"after_seconds": 30, "min_level": 1, "pools": ["remote"]}]
        queues[f"q{k}"] = queue
        # Straight into the queue: the IVR is not routing (prompts would be events of their own).
        nodes[f"to_q{k}"] = {"kind": "announce", "prompt": [], "next": {"queue": f"q{k}"}}
        by_dnis[f"q{k}"] = f"to_q{k}"
    roster = []
    for i in range(agents):
        chosen = rng.sample(range(skills), 3)
        roster.append(
            {
                "id": str(10000 + i),
                "endpoint": f"PJSIP/agent{10000 + i}",
                "pool": "remote" if i % 5 == 0 else "inhouse",
                "skills": [{"skill": f"s{k}", "level": rng.randint(1, 5)} for k in chosen],
            }
        )
    return msgspec.convert(
        {
            "site": {"name": "bench"},
            "skills": {f"s{k}": {} for k in range(skills)},
            "pools": {"inhouse": {"kind": "in_house"}, "remote": {"kind": "remote"}},
            "queues": queues,
            "ivr": {"entry": "entry", "nodes": nodes, "by_dnis": by_dnis},
            "agents": roster,
        },
        SiteConfig,
    )


def run(agents: int, skills: int, cycles: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    site = build_site(agents, skills, rng)
    engine = Engine(site, rng=random.Random(seed))
    now = 1_780_000_000.0
    for agent_id in engine.agents:
        engine.handle(ev.AgentLogin(agent_id=agent_id), now)
    next_call = 0

    def arrive() -> list[cmd.Command]:
        nonlocal next_call
        next_call += 1
        dnis = f"q{rng.randrange(skills)}"
        return engine.handle(ev.CallArrived(call_id=f"c{next_call}", caller="0101", dnis=dnis), now)

    # Fill the floor: callers until every agent is talking and every queue has a backlog.
    talking: list[tuple[str, str]] = []
    for _ in range(agents * 3):
        for c in arrive():
            if isinstance(c, cmd.RingAgent):
                engine.handle(ev.AgentAnswered(agent_id=c.agent_id, call_id=c.call_id), now)
                talking.append((c.agent_id, c.call_id))
    # Pre-draw the workload so the timed loop measures the engine, not the RNG.
    picks = [rng.randrange(1 << 30) for _ in range(cycles)]
    dnis_picks = [f"q{rng.randrange(skills)}" for _ in range(cycles)]
    decisions = 0
    handled = 0
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    for i in range(cycles):
        now += 0.01
        slot = picks[i] % len(talking)
        agent_id, call_id = talking[slot]
        engine.handle(ev.AgentHungUp(agent_id=agent_id, call_id=call_id), now)
        out = engine.handle(ev.TimerFired(), now)  # wrap-up (0 s) ends: the agent takes a call
        handled += 2
        decisions += 1
        taken = None
        for c in out:
            if isinstance(c, cmd.RingAgent):
                taken = c
        if taken is not None:
            engine.handle(ev.AgentAnswered(agent_id=taken.agent_id, call_id=taken.call_id), now)
            handled += 1
            talking[slot] = (taken.agent_id, taken.call_id)
        else:  # nothing this agent may take: it stays free
            talking[slot] = talking[-1]
            talking.pop()
        next_call += 1
        out = engine.handle(
            ev.CallArrived(call_id=f"c{next_call}", caller="0101", dnis=dnis_picks[i]), now
        )
        handled += 1
        decisions += 1
        for c in out:
            if isinstance(c, cmd.RingAgent):
                engine.handle(ev.AgentAnswered(agent_id=c.agent_id, call_id=c.call_id), now)
                handled += 1
                talking.append((c.agent_id, c.call_id))
    elapsed = time.perf_counter() - started
    gc.enable()
    selecting = _time_selection(engine, rng, skills, 20_000)
    busy = sum(1 for a in engine.agents.values() if a.state is AgentState.ON_CALL)
    waiting = sum(len(q.waiting) for q in engine.queues.values())
    return {
        "decisions_per_s": decisions / elapsed,
        "events_per_s": handled / elapsed,
        "us_per_decision": elapsed / decisions * 1e6,
        "selections_per_s": selecting,
        "busy_agents": busy,
        "waiting_calls": waiting,
        "anomalies": sum(engine.anomalies.values()),
    }


def _time_selection(engine: Engine, rng: random.Random, skills: int, n: int) -> float:
    """Selections per second of the index look-up alone: the best agent for a
    waiting caller (`AvailableAgents.best`) and the best call for an agent (the
    heads `Lines.serve_agent` compares), on the loaded floor, without offering."""
    queues = list(engine.queues.values())
    agents = list(engine.agents.values())
    current_agent, current_call = engine.is_current_agent, engine.is_current_call
    routes = engine.routes_of
    picks_q = [queues[rng.randrange(len(queues))] for _ in range(n)]
    picks_a = [agents[rng.randrange(len(agents))] for _ in range(n)]
    started = time.perf_counter()
    for q, agent in zip(picks_q, picks_a, strict=True):
        step = q.steps - 1
        q.agents.best(q.step_pools[step], q.step_min_level[step], current_agent)
        best = None
        for rq, _level, first in routes(agent.id):
            for s in range(first, rq.steps):
                head = rq.waiting.head(s, current_call)
                if head is not None:
                    key = (-rq.weight, head[0], head[1])
                    if best is None or key < best:
                        best = key
    return 2 * n / (time.perf_counter() - started)


GOALS = {400: 150_000, 10_000: 100_000}
"""Decisions per second through `handle()` the engine should reach (issue 13)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(native.describe())
    results = {}
    for agents, skills in ((400, 10), (10_000, 100)):
        r = run(agents, skills, args.cycles, args.seed)
        results[agents] = r
        print(
            f"{agents:>6} agents / {skills:>3} skills: {r['decisions_per_s']:>10,.0f} decisions/s "
            f"({r['us_per_decision']:.2f} us each, {r['events_per_s']:,.0f} events/s; "
            f"{r['busy_agents']} agents talking, {r['waiting_calls']} callers waiting, "
            f"{r['anomalies']} anomalies)\n"
            f"{'':>22}index look-up alone: {r['selections_per_s']:>10,.0f} selections/s"
        )
    ratio = results[400]["decisions_per_s"] / results[10_000]["decisions_per_s"]
    print(f"slowdown from 400 to 10,000 agents: {ratio:.2f}x")
    for agents, goal in GOALS.items():
        got = results[agents]["decisions_per_s"]
        verdict = "met" if got >= goal else "MISSED"
        print(f"goal at {agents:,} agents: {goal:,} decisions/s: {verdict} "
              f"({got / goal:.2f}x of it)")


if __name__ == "__main__":
    main()
