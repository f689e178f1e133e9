"""Pools, surge stages and the supervisor's actions.

A flow of the engine (see `engine.core`). A pool's size (by distancing level and by
surge stage) caps how many of its logged-in agents are in service: the latest logged
in go on standby first (after their call), the earliest on standby come back first.
The surge stage follows the inbound rate (or is pinned by a supervisor); a new stage
may change pool sizes and qualify waiting callers for overflow. The supervisor also
changes agents' skills and pools, the distancing level, and the announcement played
to callers joining a queue, and may listen to, whisper to or barge into a call in
conversation with an agent (a `Supervise` command; no state is kept).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.conditions import Conditions
from acd.engine.context import Context
from acd.engine.records import Agent
from acd.engine.states import BUSY_STATES, AgentState, CallState
from acd.engine.surge import Surge

if TYPE_CHECKING:
    from acd.engine.agent_states import AgentMoves
    from acd.engine.offers import Offers
    from acd.engine.overflow import Overflow
    from acd.engine.queueing import Lines

A = AgentState
C = CallState


class Pools:
    """Pool sizes, surge stages, and supervisors' changes."""

    lines: Lines
    moves: AgentMoves
    offers: Offers
    overflow: Overflow

    def __init__(self, ctx: Context, surge: Surge, conditions: Conditions) -> None:
        self.ctx = ctx
        self.surge = surge
        self.conditions = conditions

    def pool_cap(self, pool: str) -> int | None:
        """How many of the pool's logged-in agents may be in service now (None: all)."""
        cfg = self.ctx.config.pools[pool]
        caps: list[int] = []
        if cfg.size_by_distancing_level is not None:
            caps.append(cfg.size_by_distancing_level.get(self.conditions.distancing_level, 0))
        reached = self.surge.stage
        for stage in self.ctx.config.surge.stages:
            if stage.stage <= reached and pool in stage.pool_sizes:
                caps.append(stage.pool_sizes[pool])
        return max(caps) if caps else None

    def _in_service(self, pool: str) -> list[Agent]:
        return [
            a
            for a in self.ctx.agents.values()
            if a.pool == pool
            and a.state is not A.LOGGED_OUT
            and a.state is not A.STANDBY
            and not a.standby_due
            and a.pending != "logout"  # going home after this call: not staying in service
        ]

    def over_cap_demote(self, agent: Agent) -> bool:
        """If the agent's pool is over its size, put this (available) agent on
        standby and say so."""
        cap = self.pool_cap(agent.pool)
        if cap is None or len(self._in_service(agent.pool)) <= cap:
            return False
        self.moves.to(agent, "stand_by")
        return True

    def apply_cap(self, pool: str) -> None:
        """Bring the pool's in-service agents to its size: the latest logged in go on
        standby first (after their call), the earliest on standby come back first."""
        cap = self.pool_cap(pool)
        in_service = self._in_service(pool)
        if cap is None:
            cap = len(self.ctx.agents)
        if len(in_service) > cap:
            for agent in sorted(in_service, key=lambda a: (a.logged_in_at, a.roster_index))[cap:]:
                if agent.state in BUSY_STATES:
                    agent.standby_due = True
                else:
                    # Available, in wrap-up (the after-call work cut short still
                    # counts), or on a break that turns into standby.
                    self.offers.close_wrap(agent)
                    self.moves.to(agent, "stand_by")
            return
        # Room in the pool: first call off standbys not yet taken, then bring back
        # agents on standby, the earliest logged in first.
        room = cap - len(in_service)
        for agent in sorted(
            (a for a in self.ctx.agents.values() if a.pool == pool and a.standby_due),
            key=lambda a: (a.logged_in_at, a.roster_index),
        ):
            if room <= 0:
                return
            agent.standby_due = False
            room -= 1
        standby = sorted(
            (
                a
                for a in self.ctx.agents.values()
                if a.pool == pool and a.state is A.STANDBY
            ),
            key=lambda a: (a.logged_in_at, a.roster_index),
        )
        for agent in standby[:room]:
            self.moves.to(agent, "release")
            self.lines.serve_agent(agent)

    def call_arrived(self, now: float) -> None:
        """A caller arrived (automatic stages): counted in the rate, which may call
        for another stage."""
        self.surge.arrived(now)
        self.evaluate_stage()

    def evaluate_stage(self) -> None:
        surge = self.surge
        if surge.pinned is not None:
            return
        target = surge.called_for(self.ctx.now)
        if target is not None:
            self._set_stage(target)
        if surge.arm_look():
            # Quiet minutes lower the rate too: re-evaluate each minute while a stage is up.
            self.ctx.timers.arm(self.ctx.now + 60.0, "surge", "", 0)

    def surge_tick(self, _key: str, _token: int) -> None:
        if self.surge.look_due():
            self.evaluate_stage()

    def _set_stage(self, stage: int) -> None:
        self.surge.set(stage, self.ctx.now)
        for pool in self.ctx.config.pools:
            self.apply_cap(pool)
        # Stage rules may now qualify callers already waiting.
        for call in list(self.ctx.calls.values()):
            if call.state is C.WAITING and not call.ready_for_overflow and not call.callback:
                self.overflow.check(call, self.ctx.queues[call.queue])

    def on_set_stage(self, e: ev.SetSurgeStage) -> None:
        if e.stage is not None and not self.surge.knows(e.stage):
            self.ctx.anomaly("unknown surge stage")
            return
        self.surge.pin(e.stage)
        if e.stage is None:
            self.evaluate_stage()
        elif e.stage != self.surge.stage:
            self._set_stage(e.stage)

    def on_set_distancing(self, e: ev.SetDistancingLevel) -> None:
        self.conditions.distancing_level = e.level
        for pool in self.ctx.config.pools:
            self.apply_cap(pool)

    def _reroute(self, agent: Agent, change: Callable[[], None]) -> None:
        """Change an agent's skills or pool (`Roster.reroute`), report the queues they
        joined and left, and offer them a call if they are available."""
        before = self.ctx.roster.reroute(agent, change)
        self.ctx.note_agent(agent.id)
        facts = self.ctx.facts
        if facts is not None and agent.state is not A.LOGGED_OUT:
            after = self.ctx.roster.queue_names(agent.id)
            for name in before:
                if name not in after:
                    facts.append(fact.MemberRemoved(at=self.ctx.now, agent_id=agent.id, queue=name))
            paused = agent.state is A.PAUSED or agent.state is A.STANDBY
            for name in after:
                if name not in before:
                    facts.append(
                        fact.MemberAdded(
                            at=self.ctx.now, agent_id=agent.id, queue=name, paused=paused
                        )
                    )
        if agent.state is A.AVAILABLE:
            self.lines.serve_agent(agent)

    def on_set_skill(self, e: ev.SetAgentSkill) -> None:
        agent = self.ctx.agent(e.agent_id, "skill change")
        if agent is None:
            return
        if e.skill not in self.ctx.config.skills or (e.level is not None and not 1 <= e.level <= 5):
            self.ctx.anomaly("skill change refused")
            return

        def change() -> None:
            if e.level is None:
                agent.skills.pop(e.skill, None)
                agent.skill_sources.pop(e.skill, None)
            else:
                agent.skills[e.skill] = e.level
                agent.skill_sources[e.skill] = e.source

        self._reroute(agent, change)

    def on_move_agent(self, e: ev.MoveAgent) -> None:
        agent = self.ctx.agent(e.agent_id, "pool move")
        if agent is None:
            return
        if e.pool not in self.ctx.config.pools:
            self.ctx.anomaly("move to unknown pool")
            return
        old = agent.pool

        def change() -> None:
            agent.pool = e.pool

        self._reroute(agent, change)
        self.apply_cap(old)
        self.apply_cap(e.pool)

    def on_set_announcement(self, e: ev.SetAnnouncement) -> None:
        unknown = [q for q in e.queues if q not in self.ctx.queues]
        if unknown:
            self.ctx.anomaly("announcement for unknown queue")
            return
        self.conditions.announce(e.media, e.queues)

    def on_supervise(self, e: ev.SuperviseCall) -> None:
        call = self.ctx.call(e.call_id, "supervision")
        if call is None:
            return
        # Only a conversation the caller and the agent are both in (not the
        # pre-connect notice, not an abusive caller's warning): there is a talk to hear.
        if call.state is not C.CONNECTED or not call.agent_id:
            self.ctx.anomaly("supervision of a call not in a conversation with an agent")
            return
        self.ctx.emit(
            cmd.Supervise(
                call_id=call.id, agent_id=call.agent_id, endpoint=e.endpoint, mode=e.mode
            )
        )
