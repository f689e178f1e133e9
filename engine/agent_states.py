"""Agents' states: every move of an agent, and the agents' own requests.

A part of `Engine` (see `engine.core` for the contract). `_agent_to` is the one way an
agent changes state (along `AGENT_TRANSITIONS`): it keeps time accounting, queue
staffing and the availability indexes true. Routes (the queues an agent may serve)
and the strategy keys that order available agents are computed here. Login, logout,
pause, unpause and ready: a request made during a call waits until it is over.
"""

from __future__ import annotations

from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.base import EngineBase
from acd.engine.queues import QueueRuntime, Route
from acd.engine.records import Agent
from acd.engine.states import (
    AGENT_TRANSITIONS,
    BUSY_STATES,
    STAFFED_STATES,
    AgentState,
    AgentTrigger,
)

A = AgentState

_REPORTED = frozenset({"login", "logout", "pause", "unpause"})
"""The agent moves reported as facts (`Engine.facts`), when facts are on."""


class AgentStates(EngineBase):
    """Agents' state moves, routes, and login, logout, pause, ready."""

    def _routes_of(self, agent: Agent) -> list[Route]:
        routes: list[Route] = []
        for q in self.queues.values():
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
        return (self.rng.random(), agent.roster_index)

    def _agent_to(self, agent: Agent, trigger: AgentTrigger, reason: str = "") -> None:
        """Move an agent along `AGENT_TRANSITIONS`, keeping time accounting, queue
        staffing and the availability indexes true. Callers checked the move exists."""
        now = self._now
        old = agent.state
        new = AGENT_TRANSITIONS[(old, trigger)]
        if old is A.AVAILABLE:
            self.metrics.add_agent_time(agent.pool, False, agent.state_since, now)
            agent.version += 1
        elif old in BUSY_STATES or (old is A.WRAP_UP and agent.reason == "acw"):
            self.metrics.add_agent_time(agent.pool, True, agent.state_since, now)
        was_staffed = old in STAFFED_STATES
        is_staffed = new in STAFFED_STATES
        if was_staffed != is_staffed:
            delta = 1 if is_staffed else -1
            for q, _level, _first in self._routes[agent.id]:
                q.state.staffed += delta
        if new is A.LOGGED_OUT:
            agent.standby_due = False
        if new is not A.WRAP_UP:
            agent.cool_down_due = 0.0  # left wrap-up another way (a break, a logout)
        agent.state = new
        agent.state_since = now
        if self.tracking:
            self.changed_agents.add(agent.id)
        agent.reason = reason
        if new is A.AVAILABLE:
            for q, level, _first in self._routes[agent.id]:
                q.agents.add(
                    agent.pool, level, self._strategy_key(q, agent, level), agent.id, agent.version
                )
        facts = self.facts
        if facts is not None and trigger in _REPORTED:
            self._report_agent(facts, agent, trigger)

    def _report_agent(self, facts: list[fact.Fact], agent: Agent, trigger: str) -> None:
        """The fact of a login, logout, pause or unpause (`_agent_to` has moved the agent)."""
        now = self._now
        queues = tuple(q.name for q, _level, _first in self._routes[agent.id])
        if trigger == "login":
            facts.append(fact.AgentLoggedIn(at=now, agent_id=agent.id, queues=queues))
        elif trigger == "logout":
            facts.append(
                fact.AgentLoggedOut(
                    at=now, agent_id=agent.id, queues=queues, logged_in_at=agent.logged_in_at
                )
            )
        elif trigger == "pause":
            facts.append(
                fact.AgentPaused(at=now, agent_id=agent.id, queues=queues, reason=agent.reason)
            )
        else:
            facts.append(fact.AgentUnpaused(at=now, agent_id=agent.id, queues=queues))

    def _on_login(self, e: ev.AgentLogin) -> None:
        agent = self._agent(e.agent_id, "login")
        if agent is None:
            return
        if agent.state is not A.LOGGED_OUT:
            self._anomaly("login while logged in")
            return
        agent.logged_in_at = self._now
        agent.last_call_end = self._now
        agent.missed = 0
        self._agent_to(agent, "login")
        if not self._over_cap_demote(agent):
            self._serve_agent(agent)

    def _on_logout(self, e: ev.AgentLogout) -> None:
        agent = self._agent(e.agent_id, "logout")
        if agent is None:
            return
        if agent.state in BUSY_STATES:
            agent.pending = "logout"
        elif (agent.state, "logout") in AGENT_TRANSITIONS:
            self._logout(agent)
        else:
            self._anomaly("logout while logged out")

    def _logout(self, agent: Agent) -> None:
        self._close_wrap(agent)
        was_standby = agent.state is A.PAUSED and agent.reason == "standby"
        self._agent_to(agent, "logout")
        if not was_standby:
            self._apply_pool_cap(agent.pool)

    def _on_pause(self, e: ev.AgentPause) -> None:
        agent = self._agent(e.agent_id, "pause")
        if agent is None:
            return
        if e.reason == "standby":
            self._anomaly("standby is set by pool size, not by hand")
        elif agent.state in BUSY_STATES:
            withdrawn = agent.pending == "logout"
            agent.pending, agent.pending_reason = "pause", e.reason
            if withdrawn:
                # Staying after all: the agent counts in the pool again, so its size
                # applies again (someone may have to stand by after their call).
                self._apply_pool_cap(agent.pool)
        elif (agent.state, "pause") in AGENT_TRANSITIONS:
            if agent.state is A.PAUSED and agent.reason == "standby":
                self._anomaly("pause while on standby")
                return
            self._close_wrap(agent)  # a break taken during wrap-up: the call was handled
            self._agent_to(agent, "pause", e.reason)
        else:
            self._anomaly("pause while logged out")

    def _on_unpause(self, e: ev.AgentUnpause) -> None:
        agent = self._agent(e.agent_id, "unpause")
        if agent is None:
            return
        if agent.pending == "pause":
            agent.pending = ""
        elif agent.state is A.PAUSED and agent.reason != "standby":
            self._agent_to(agent, "unpause")  # a paused agent already counted in service
            self._serve_agent(agent)
        else:
            self._anomaly("unpause while not paused")

    def _on_ready(self, e: ev.AgentReady) -> None:
        agent = self._agent(e.agent_id, "ready")
        if agent is None:
            return
        # A cool-down after an abusive call protects the agent; it is not skipped.
        if agent.state is A.WRAP_UP and agent.reason != "cool-down":
            self._after_wrap(agent, "ready")
        else:
            self._anomaly("ready outside wrap-up")
