"""Agents' states: every move of an agent, and the agents' own requests.

A flow of the engine (see `engine.core`). `AgentMoves.to` is the one way an agent
changes state: the roster (`engine.roster`) moves the agent along `AGENT_TRANSITIONS`,
keeping time accounting, queue staffing and the availability indexes true; this flow
notes the change and reports it. Login, logout, pause, unpause and ready: a request
made during a call waits until it is over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.context import Context
from acd.engine.records import Agent
from acd.engine.states import AGENT_TRANSITIONS, BUSY_STATES, AgentState, AgentTrigger, shown

if TYPE_CHECKING:
    from acd.engine.offers import Offers
    from acd.engine.pools import Pools
    from acd.engine.queueing import Lines

A = AgentState

_REPORTED = frozenset({"login", "logout", "pause", "unpause", "stand_by", "release"})
"""The agent moves reported as facts (`Engine.facts`), when facts are on."""


class AgentMoves:
    """Agents' state moves, and login, logout, pause, ready."""

    lines: Lines
    offers: Offers
    pools: Pools

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def to(self, agent: Agent, trigger: AgentTrigger, reason: str = "") -> None:
        """Move an agent (`Roster.move`: time accounting, staffing and availability
        kept true), note the change, and report logins, logouts and pauses. Callers
        checked the move exists."""
        self.ctx.roster.move(agent, trigger, reason, self.ctx.now)
        self.ctx.note_agent(agent.id)
        facts = self.ctx.facts
        if facts is not None and trigger in _REPORTED:
            self._report_agent(facts, agent, trigger)

    def _report_agent(self, facts: list[fact.Fact], agent: Agent, trigger: str) -> None:
        """The fact of a login, logout, pause or unpause (`to` has moved the agent)."""
        now = self.ctx.now
        queues = self.ctx.roster.queue_names(agent.id)
        if trigger == "login":
            facts.append(fact.AgentLoggedIn(at=now, agent_id=agent.id, queues=queues))
        elif trigger == "logout":
            facts.append(
                fact.AgentLoggedOut(
                    at=now, agent_id=agent.id, queues=queues, logged_in_at=agent.logged_in_at
                )
            )
        elif trigger == "pause" or trigger == "stand_by":
            _state, reason = shown(agent.state, agent.reason)
            facts.append(fact.AgentPaused(at=now, agent_id=agent.id, queues=queues, reason=reason))
        else:
            facts.append(fact.AgentUnpaused(at=now, agent_id=agent.id, queues=queues))

    def on_login(self, e: ev.AgentLogin) -> None:
        agent = self.ctx.agent(e.agent_id, "login")
        if agent is None:
            return
        if agent.state is not A.LOGGED_OUT:
            self.ctx.anomaly("login while logged in")
            return
        agent.logged_in_at = self.ctx.now
        agent.last_call_end = self.ctx.now
        agent.missed = 0
        self.to(agent, "login")
        if not self.pools.over_cap_demote(agent):
            self.lines.serve_agent(agent)

    def on_logout(self, e: ev.AgentLogout) -> None:
        agent = self.ctx.agent(e.agent_id, "logout")
        if agent is None:
            return
        if agent.state in BUSY_STATES:
            agent.pending = "logout"
        elif (agent.state, "logout") in AGENT_TRANSITIONS:
            self.logout(agent)
        else:
            self.ctx.anomaly("logout while logged out")

    def logout(self, agent: Agent) -> None:
        self.offers.close_wrap(agent)
        was_standby = agent.state is A.STANDBY
        self.to(agent, "logout")
        if not was_standby:
            self.pools.apply_cap(agent.pool)

    def on_pause(self, e: ev.AgentPause) -> None:
        agent = self.ctx.agent(e.agent_id, "pause")
        if agent is None:
            return
        if e.reason == "standby":
            self.ctx.anomaly("standby is set by pool size, not by hand")
        elif agent.state in BUSY_STATES:
            withdrawn = agent.pending == "logout"
            agent.pending, agent.pending_reason = "pause", e.reason
            if withdrawn:
                # Staying after all: the agent counts in the pool again, so its size
                # applies again (someone may have to stand by after their call).
                self.pools.apply_cap(agent.pool)
        elif agent.state is A.STANDBY:
            self.ctx.anomaly("pause while on standby")
        elif (agent.state, "pause") in AGENT_TRANSITIONS:
            self.offers.close_wrap(agent)  # a break taken during wrap-up: the call was handled
            self.to(agent, "pause", e.reason)
        else:
            self.ctx.anomaly("pause while logged out")

    def on_unpause(self, e: ev.AgentUnpause) -> None:
        agent = self.ctx.agent(e.agent_id, "unpause")
        if agent is None:
            return
        if agent.pending == "pause":
            agent.pending = ""
        elif agent.state is A.PAUSED:
            self.to(agent, "unpause")  # a paused agent already counted in service
            self.lines.serve_agent(agent)
        else:
            self.ctx.anomaly("unpause while not paused")

    def on_ready(self, e: ev.AgentReady) -> None:
        agent = self.ctx.agent(e.agent_id, "ready")
        if agent is None:
            return
        # After-call work and a missed-ring rest may be cut short; a cool-down after an
        # abusive call protects the agent, so the table has no `ready` from it.
        if (agent.state, "ready") in AGENT_TRANSITIONS:
            self.offers.after_wrap(agent, "ready")
        else:
            self.ctx.anomaly("ready outside wrap-up")
