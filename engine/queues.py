"""A queue at run time: its configuration compiled into relaxation steps, with its
routing indexes (available agents, waiting calls, callers ready for overflow) over
its state (`QueueState`, persisted as it is: the heaps verbatim, so that the order of
service and every tie survive a restore)."""

from __future__ import annotations

from acd.config.schema import Queue
from acd.engine.routing import (
    AvailableAgents,
    ReadyForOverflow,
    WaitingCalls,
    agent_heaps,
)
from acd.engine.state import QueueState


class QueueRuntime:
    """A queue compiled from its configuration, with its routing indexes."""

    __slots__ = (
        "agents",
        "announce_lines",
        "cfg",
        "name",
        "overflow_waits",
        "ready",
        "relax_lines",
        "service_level",
        "state",
        "step_after",
        "step_min_level",
        "step_pools",
        "steps",
        "waiting",
        "weight",
    )

    def __init__(
        self,
        name: str,
        cfg: Queue,
        site_sl: float,
        pools: list[str],
        state: QueueState | None = None,
    ) -> None:
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
        if state is None:
            state = QueueState(
                agent_heaps=agent_heaps(pools),
                buckets=[[] for _ in range(self.steps)],
                order=[],
                ready=[],
            )
        self.state = state
        self.agents = AvailableAgents(state.agent_heaps)
        self.waiting = WaitingCalls(state.buckets, state.order)
        self.ready = ReadyForOverflow(state.ready)
        self.overflow_waits = [
            (wait, f"overflow {wait:g} {name}")
            for wait in sorted(
                {r.when.waited_over_seconds for r in cfg.overflow if r.when.waited_over_seconds}
            )
        ]
        """(seconds waited, the line of those timers) for each overflow rule's wait."""
        # Timer lines (`engine.timers`): each holds timers armed a fixed time after
        # the moment its callers join, reach a step, or hear an announcement.
        self.relax_lines = [f"relax {step} {name}" for step in range(self.steps)]
        """The line of the timers that take callers to each step."""
        self.announce_lines = (f"announce first {name}", f"announce again {name}")
        """The lines of callers' first announcements and of the ones after."""

    @property
    def staffed(self) -> int:
        """Agents staffing the queue now."""
        return self.state.staffed

    @property
    def callbacks_in_line(self) -> int:
        """Callbacks waiting for their turn now (their lines are down)."""
        return self.state.callbacks_in_line

    def first_step(self, level: int, pool: str) -> int | None:
        """The first relaxation step at which an agent of this level and pool may
        take this queue's calls, or None if never."""
        for step in range(self.steps):
            if level >= self.step_min_level[step] and pool in self.step_pools[step]:
                return step
        return None


Route = tuple[QueueRuntime, int, int]
"""(queue, the agent's level in its skill, first eligible step)."""
