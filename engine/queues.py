"""A queue at run time: its configuration compiled into relaxation steps, with its
routing indexes (available agents, waiting calls, callers ready for overflow)."""

from __future__ import annotations

from acd.config.schema import Queue
from acd.engine.routing import AvailableAgents, ReadyForOverflow, WaitingCalls


class QueueRuntime:
    """A queue compiled from its configuration, with its routing indexes."""

    __slots__ = (
        "agents",
        "callbacks_in_line",
        "cfg",
        "name",
        "overflow_waits",
        "ready",
        "service_level",
        "staffed",
        "step_after",
        "step_min_level",
        "step_pools",
        "steps",
        "waiting",
        "weight",
    )

    def __init__(self, name: str, cfg: Queue, site_sl: float, pools: list[str]) -> None:
        self.name = name
        self.cfg = cfg
        self.weight = cfg.weight
        self.service_level = (
            cfg.service_level_seconds if cfg.service_level_seconds is not None else site_sl
        )
        after = [0.0]
        min_level = [cfg.min_level]
        admitted = [tuple(cfg.pools)]
        for step in cfg.relax:
            after.append(step.after_seconds)
            min_level.append(min(min_level[-1], step.min_level or min_level[-1]))
            admitted.append(admitted[-1] + tuple(p for p in step.pools if p not in admitted[-1]))
        self.step_after = after
        self.step_min_level = min_level
        self.step_pools = admitted
        self.steps = len(after)
        self.agents = AvailableAgents(pools)
        self.waiting = WaitingCalls(self.steps)
        self.ready = ReadyForOverflow()
        self.staffed = 0
        self.callbacks_in_line = 0
        """Waiting calls that are callbacks: their lines are down, so they do not
        fill the queue (`max_waiting` counts callers on hold)."""
        self.overflow_waits = sorted(
            {r.when.waited_over_seconds for r in cfg.overflow if r.when.waited_over_seconds}
        )

    def first_step(self, level: int, pool: str) -> int | None:
        """The first relaxation step at which an agent of this level and pool may
        take this queue's calls, or None if never."""
        for step in range(self.steps):
            if level >= self.step_min_level[step] and pool in self.step_pools[step]:
                return step
        return None


Route = tuple[QueueRuntime, int, int]
"""(queue, the agent's level in its skill, first eligible step)."""
