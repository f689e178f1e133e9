"""The roster: a site's agents, the queues each may serve, and every move of an agent.

`Roster.move` is the one way an agent changes state (along `AGENT_TRANSITIONS`), and
it keeps three things true that depend on the state: time accounting (available and
handling seconds per pool, for occupancy), queue staffing (`QueueState.staffed`, for
expected waits) and the availability indexes (an agent who becomes available is
pushed into each of their queues' `AvailableAgents`, ordered by that queue's
strategy; leaving AVAILABLE bumps the agent's version, which makes those entries
stale). `reroute` does the same for a change of skills or pool.

The roster decides nothing about calls: the engine asks it to move agents, then
offers calls. It owns the agents' records (`Agent`, persisted by the engine) and
their routes (derived from skills, pools and the queues' relaxation steps, so never
stored).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from acd.engine.counting import Counting
from acd.engine.queues import QueueRuntime, Route
from acd.engine.records import Agent
from acd.engine.states import (
    AGENT_TRANSITIONS,
    HANDLING_STATES,
    STAFFED_STATES,
    WRAPPING_STATES,
    AgentState,
    AgentTrigger,
)

A = AgentState


class Roster:
    """The agents of a site and the queues each may serve."""

    __slots__ = ("_counting", "_queues", "_rng", "_routes", "agents")

    def __init__(
        self,
        agents: list[Agent],
        queues: dict[str, QueueRuntime],
        counting: Counting,
        rng: random.Random,
    ) -> None:
        """`agents` in roster order (their records are the roster's from now on);
        `counting` is where agent time is counted, `rng` draws the random strategy's
        keys."""
        self.agents: dict[str, Agent] = {a.id: a for a in agents}
        """Every agent by id, in roster order (read it; move agents with `move`)."""
        self._queues = queues
        self._counting = counting
        self._rng = rng
        self._routes: dict[str, list[Route]] = {a.id: self._routes_of(a) for a in agents}

    def routes(self, agent_id: str) -> list[Route]:
        """The queues an agent may serve: (queue, level, first eligible step)."""
        return self._routes[agent_id]

    def queue_names(self, agent_id: str) -> tuple[str, ...]:
        """The names of the queues an agent may serve, in configuration order."""
        return tuple(q.name for q, _level, _first in self._routes[agent_id])

    def is_available(self, agent_id: str, version: int) -> bool:
        """Whether an index entry (`agent_id`, `version`) still stands for an
        available agent (the availability indexes drop stale entries lazily)."""
        agent = self.agents[agent_id]
        return agent.version == version and agent.state is A.AVAILABLE

    def move(self, agent: Agent, trigger: AgentTrigger, reason: str, now: float) -> None:
        """Move an agent along `AGENT_TRANSITIONS` at `now`, keeping time accounting,
        queue staffing and the availability indexes true. Callers checked the move
        exists."""
        old = agent.state
        new = AGENT_TRANSITIONS[(old, trigger)]
        if old is A.AVAILABLE:
            self._counting.add_agent_time(agent.pool, False, agent.state_since, now)
            agent.version += 1
        elif old in HANDLING_STATES:
            self._counting.add_agent_time(agent.pool, True, agent.state_since, now)
        was_staffed = old in STAFFED_STATES
        is_staffed = new in STAFFED_STATES
        if was_staffed != is_staffed:
            delta = 1 if is_staffed else -1
            for q, _level, _first in self._routes[agent.id]:
                q.state.staffed += delta
        if new is A.LOGGED_OUT:
            agent.standby_due = False
        if new not in WRAPPING_STATES:
            agent.cool_down_due = 0.0  # left wrap-up another way (a break, a logout)
        agent.state = new
        agent.state_since = now
        agent.reason = reason if new is A.PAUSED else ""
        if new is A.AVAILABLE:
            self._index(agent)

    def reroute(self, agent: Agent, change: Callable[[], None]) -> list[str]:
        """Apply `change` (to the agent's skills or pool) and rebuild what depends on
        them: routes, staffing, availability. Returns the names of the queues the
        agent served before (the caller compares with `queue_names` after)."""
        staffed = agent.state in STAFFED_STATES
        before = self._routes[agent.id]
        if staffed:
            for q, _level, _first in before:
                q.state.staffed -= 1
        if agent.state is A.AVAILABLE:
            agent.version += 1
        change()
        self._routes[agent.id] = self._routes_of(agent)
        if staffed:
            for q, _level, _first in self._routes[agent.id]:
                q.state.staffed += 1
        if agent.state is A.AVAILABLE:
            self._index(agent)
        return [q.name for q, _level, _first in before]

    def _index(self, agent: Agent) -> None:
        """The agent is available: enter them in each of their queues' index."""
        for q, level, _first in self._routes[agent.id]:
            q.agents.add(
                agent.pool, level, self._strategy_key(q, agent, level), agent.id, agent.version
            )

    def _routes_of(self, agent: Agent) -> list[Route]:
        routes: list[Route] = []
        for q in self._queues.values():
            level = agent.skills.get(q.cfg.skill)
            if level is None:
                continue
            first = q.first_step(level, agent.pool)
            if first is not None:
                routes.append((q, level, first))
        return routes

    def _strategy_key(self, q: QueueRuntime, agent: Agent, level: int) -> tuple[float, ...]:
        strategy = q.cfg.strategy
        if strategy == "longest_idle":
            return (agent.last_call_end, agent.roster_index)
        if strategy == "skill_level":
            return (-level, agent.last_call_end, agent.roster_index)
        if strategy == "least_occupied":
            return (agent.handled_seconds, agent.last_call_end, agent.roster_index)
        if strategy == "round_robin":
            return (agent.last_offer_seq, agent.roster_index)
        return (self._rng.random(), agent.roster_index)
