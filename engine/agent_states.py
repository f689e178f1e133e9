"""Agents' states: every move of an agent, and the agents' own requests.

A part of `Engine` (see `engine.core` for the contract). `_agent_to` is the one way an
agent changes state: the roster (`engine.roster`) moves the agent along
`AGENT_TRANSITIONS`, keeping time accounting, queue staffing and the availability
indexes true; this part notes the change and reports it. Login, logout, pause,
unpause and ready: a request made during a call waits until it is over.
"""

from __future__ import annotations

from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.base import EngineBase
from acd.engine.records import Agent
from acd.engine.states import AGENT_TRANSITIONS, BUSY_STATES, AgentState, AgentTrigger

A = AgentState

_REPORTED = frozenset({"login", "logout", "pause", "unpause"})
"""The agent moves reported as facts (`Engine.facts`), when facts are on."""


class AgentStates(EngineBase):
    """Agents' state moves, and login, logout, pause, ready."""

    def _agent_to(self, agent: Agent, trigger: AgentTrigger, reason: str = "") -> None:
        """Move an agent (`Roster.move`: time accounting, staffing and availability
        kept true), note the change, and report logins, logouts and pauses. Callers
        checked the move exists."""
        self.roster.move(agent, trigger, reason, self._now)
        if self.tracking:
            self.changed_agents.add(agent.id)
        facts = self.facts
        if facts is not None and trigger in _REPORTED:
            self._report_agent(facts, agent, trigger)

    def _report_agent(self, facts: list[fact.Fact], agent: Agent, trigger: str) -> None:
        """The fact of a login, logout, pause or unpause (`_agent_to` has moved the agent)."""
        now = self._now
        queues = self.roster.queue_names(agent.id)
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
