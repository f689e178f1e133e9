"""Offers and conversations: ringing an agent, the answer or the miss, talk, wrap-up.

A flow of the engine (see `engine.core`). An offer reserves the agent
and rings them. A missed ring puts the call back in its place (it keeps it) and the
agent rests, or is paused after too many misses in a row. An answer connects the
call (after the worker-protection notice, if the queue plays one); a conversation
ends in wrap-up, after which the logout, break or standby decided meanwhile applies,
else the agent takes the next call. During a call an agent may flag the caller as
abusive (the caller hears a warning, the agent gets a cool-down) or refer a callback
to another queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.context import Context
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.states import AgentState, AgentTrigger, CallState

if TYPE_CHECKING:
    from acd.engine.agent_states import AgentMoves
    from acd.engine.callbacks import Callbacks
    from acd.engine.callers import Callers
    from acd.engine.queueing import Lines

A = AgentState
C = CallState


class Offers:
    """Offers to agents, conversations and wrap-up."""

    callbacks: Callbacks
    callers: Callers
    lines: Lines
    moves: AgentMoves

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def offer(self, call: Call, agent: Agent, q: QueueRuntime) -> None:
        now = self.ctx.now
        self.lines.leave(call)
        self.ctx.move(call, "offer")
        offer = self.ctx.next_offer(call)
        call.agent_id = agent.id
        self.moves.to(agent, "offer")
        agent.call_id = call.id
        agent.last_offer_seq = offer
        self.ctx.emit(
            cmd.RingAgent(
                call_id=call.id,
                agent_id=agent.id,
                endpoint=agent.endpoint,
                timeout=q.cfg.ring_timeout_seconds,
                caller=call.caller,
                queue=q.name,
                callback=call.callback and not call.line_up,
            )
        )
        self.ctx.timers.arm(now + q.cfg.ring_timeout_seconds, "ring", call.id, call.offer_token)
        facts = self.ctx.facts
        if facts is not None:
            facts.append(fact.MemberRung(at=now, call_id=call.id, queue=q.name, agent_id=agent.id))
        if call.line_up and q.cfg.pre_connect and call.protection_prompt_id == 0:
            call.protection_prompt_id = self.ctx.play(call, q.cfg.pre_connect, "")

    def _offered(self, agent_id: str, call_id: str, what: str) -> tuple[Agent, Call] | None:
        """The agent and call of a live offer between them, or None (a late event)."""
        agent = self.ctx.agent(agent_id, what)
        call = self.ctx.calls.get(call_id)
        if agent is None:
            return None
        if call is None or call.agent_id != agent.id or agent.call_id != call.id:
            self.ctx.anomaly(f"late {what}")
            return None
        return agent, call

    def on_agent_answered(self, e: ev.AgentAnswered) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent answer")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.OFFERED or agent.state is not A.RESERVED:
            self.ctx.anomaly("late agent answer")
            return
        agent.missed = 0
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.MemberAnswered(
                    at=self.ctx.now, call_id=call.id, queue=call.queue, agent_id=agent.id
                )
            )
        self.moves.to(agent, "answered")
        if call.callback and not call.line_up:
            self.ctx.move(call, "answered_callback")
            self.callbacks.dial_back(call, agent)
            return
        if call.prompt_kind == "callback_confirm":
            # Still on the line, hearing the confirmation: put them straight through.
            self.ctx.emit(cmd.StopPlayback(call_id=call.id))
            call.prompt_id, call.prompt_kind = 0, ""
        self.ctx.move(call, "answered")
        if call.protection_prompt_id == 0 or call.protection_done:
            self.connect(call)

    def connect(self, call: Call) -> None:
        self.ctx.move(call, "connect")
        call.connected_at = self.ctx.now
        self.ctx.emit(cmd.Connect(call_id=call.id, agent_id=call.agent_id))
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.CallConnected(
                    at=self.ctx.now, call_id=call.id, queue=call.queue, agent_id=call.agent_id
                )
            )
        agent = self.ctx.agents[call.agent_id]
        for p in self.ctx.counting.pool_counters(agent.pool, call.interval):
            p.answered += 1
        self.callers.record_outcome(call, "answered")

    def on_agent_missed(self, e: ev.AgentMissed) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent miss")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.OFFERED:
            self.ctx.anomaly("late agent miss")
            return
        self._missed(call, agent)

    def ring_timed_out(self, call_id: str, token: int) -> None:
        call = self.ctx.calls[call_id]
        self.ctx.emit(cmd.CancelRing(call_id=call.id, agent_id=call.agent_id))
        self._missed(call, self.ctx.agents[call.agent_id], timed_out=True)

    def _missed(self, call: Call, agent: Agent, timed_out: bool = False) -> None:
        """A missed ring: the call goes back to its place; the agent rests, or is
        paused with reason "missed" after `missed_ring.pause_after` misses in a row
        (the count then starts again: one miss after unpausing is a rest, not a pause).
        A logout or pause the agent asked for while ringing is applied instead.
        `timed_out`: the engine's ring timer ended it (not the phone or the PBX)."""
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.RingNoAnswer(
                    at=self.ctx.now,
                    call_id=call.id,
                    queue=call.queue,
                    timed_out=timed_out,
                    agent_id=agent.id,
                )
            )
        agent.missed += 1
        agent.call_id = ""
        rules = self.ctx.config.missed_ring
        if agent.missed >= rules.pause_after:
            agent.missed = 0
            self.moves.to(agent, "missed")
            if not self._apply_pending(agent):
                self.moves.to(agent, "pause", "missed")
        else:
            self._start_wrap(agent, "missed", rules.rest_seconds)
        call.agent_id = ""
        self.ctx.move(call, "missed")
        self.lines.enter(call, self.ctx.queues[call.queue])

    def on_agent_hung_up(self, e: ev.AgentHungUp) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent hang-up")
        if pair is None:
            return
        agent, call = pair
        facts = self.ctx.facts
        if call.state is C.CONNECTED:
            if facts is not None:
                facts.append(
                    fact.CallCompleted(
                        at=self.ctx.now,
                        call_id=call.id,
                        queue=call.queue,
                        by_caller=False,
                        agent_id=agent.id,
                    )
                )
            self.ctx.emit(cmd.HangupCaller(call_id=call.id))
            self.end_connected(call)
        elif call.state in (C.CONNECTING, C.DIALING_BACK):
            # The agent left before the caller was put through: not the caller's
            # fault, so the call goes back to its place in line.
            if facts is not None:
                facts.append(
                    fact.AgentDumped(
                        at=self.ctx.now, call_id=call.id, queue=call.queue, agent_id=agent.id
                    )
                )
            if call.state is C.DIALING_BACK:
                self.ctx.emit(cmd.HangupCaller(call_id=call.id))
            self.ctx.move(call, "agent_left")
            call.agent_id = ""
            self.end_agent_call(agent, call)
            self.lines.enter(call, self.ctx.queues[call.queue])
        elif call.state is C.OFFERED:
            self._missed(call, agent)
        else:
            self.ctx.anomaly("late agent hang-up")

    def end_connected(self, call: Call) -> None:
        """A connected call is over: talk time is counted, the agent wraps up."""
        agent = self.ctx.agents[call.agent_id]
        talk = self.ctx.now - call.connected_at
        for c in self.ctx.counting.queue_counters(call.queue, call.interval):
            c.talk_seconds += talk
        for p in self.ctx.counting.pool_counters(agent.pool, call.interval):
            p.talk_seconds += talk
        self.callers.finish(call, None)
        self.end_agent_call(agent, call)

    def end_agent_call(self, agent: Agent, call: Call) -> None:
        """The agent's part of a call is over: after-call work for the queue's time."""
        agent.call_id = ""
        agent.wrap_queue = call.queue
        agent.wrap_interval = call.interval
        agent.last_call_end = self.ctx.now
        agent.handled_seconds += self.ctx.now - agent.state_since
        wrap = self.ctx.queues[call.queue].cfg.wrap_up_seconds
        self._start_wrap(agent, "call_ended", wrap)

    def _start_wrap(self, agent: Agent, trigger: AgentTrigger, seconds: float) -> None:
        """Move the agent to one of `WRAPPING_STATES`, ended by the wrap timer."""
        self.moves.to(agent, trigger)
        agent.wrap_token += 1
        self.ctx.timers.arm(self.ctx.now + seconds, "wrap", agent.id, agent.wrap_token)

    def wrap_timed_out(self, agent_id: str, token: int) -> None:
        self.after_wrap(self.ctx.agents[agent_id], "wrap_up_done")

    def after_wrap(self, agent: Agent, trigger: AgentTrigger) -> None:
        """Wrap-up is over: apply a pending logout or pause, else back to work."""
        self.close_wrap(agent)
        if agent.cool_down_due > 0:
            # Worker protection: after the after-call work of an abusive call, a
            # cool-down that is neither handling time nor skippable by `AgentReady`.
            seconds, agent.cool_down_due = agent.cool_down_due, 0.0
            self._start_wrap(agent, "cool_down", seconds)
            return
        if not self._apply_pending(agent):
            # A pool shrunk while the agent was busy left a pending standby,
            # applied by `_apply_pending`; so no pool-size check is needed on this hot path.
            self.moves.to(agent, trigger)
            self.lines.serve_agent(agent)

    def close_wrap(self, agent: Agent) -> None:
        """Count the after-call work that is ending as handling of the call (AHT,
        handled); a cool-down is not handling. Called before an agent leaves wrap-up by any way: the
        timer, `AgentReady`, a pause or a logout; does nothing otherwise."""
        if agent.state is A.WRAP_UP and agent.wrap_queue:
            wrap = self.ctx.now - agent.state_since
            interval = agent.wrap_interval
            for c in self.ctx.counting.queue_counters(agent.wrap_queue, interval):
                c.wrap_up_seconds += wrap
                c.handled += 1
            for p in self.ctx.counting.pool_counters(agent.pool, interval):
                p.wrap_up_seconds += wrap
                p.handled += 1
            agent.handled_seconds += wrap
            agent.wrap_queue = ""

    def _apply_pending(self, agent: Agent) -> bool:
        """Apply what was decided while the agent was busy (the agent is now in
        wrap-up or available, where all these moves exist): the agent's own logout,
        else the pool's standby, else the agent's own break. False if none."""
        pending, agent.pending = agent.pending, ""
        standby, agent.standby_due = agent.standby_due, False
        if pending == "logout":
            self.moves.logout(agent)
        elif standby:
            self.close_wrap(agent)
            self.moves.to(agent, "stand_by")
        elif pending == "pause":
            self.moves.to(agent, "pause", agent.pending_reason)
        else:
            return False
        return True

    def offer_cancelled(self, agent: Agent) -> None:
        """The agent's offer ended with no conversation (the caller gave up while the
        phone rang, a callback went unanswered): back to work, or to the pause or
        logout asked for meanwhile."""
        self.moves.to(agent, "cancelled")
        if not self._apply_pending(agent):
            self.lines.serve_agent(agent)

    def on_abusive(self, e: ev.AgentFlaggedAbusive) -> None:
        pair = self._offered(e.agent_id, e.call_id, "abusive flag")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.CONNECTED:
            self.ctx.anomaly("abusive flag outside a conversation")
            return
        self.ctx.move(call, "abusive")
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.CallCompleted(
                    at=self.ctx.now,
                    call_id=call.id,
                    queue=call.queue,
                    by_caller=False,
                    agent_id=agent.id,
                )
            )
        self.ctx.emit(cmd.HangupAgent(call_id=call.id, agent_id=agent.id))
        self.ctx.play(call, self.ctx.config.abusive.warning, "warning")
        talk = self.ctx.now - call.connected_at
        for c in self.ctx.counting.queue_counters(call.queue, call.interval):
            c.talk_seconds += talk
        for p in self.ctx.counting.pool_counters(agent.pool, call.interval):
            p.talk_seconds += talk
        agent.cool_down_due = self.ctx.config.abusive.cool_down_seconds
        self.end_agent_call(agent, call)

    def on_referred(self, e: ev.AgentReferredCallback) -> None:
        pair = self._offered(e.agent_id, e.call_id, "referral")
        if pair is None:
            return
        agent, call = pair
        if e.queue not in self.ctx.queues or call.state is not C.CONNECTED or not call.caller:
            self.ctx.anomaly("referral refused")
            return
        # Ids are never reused: a timer of an earlier, ended referral must not
        # find a new call under its id.
        self.ctx.seq.referral += 1
        referral = Call(
            id=f"{call.id}/rc{self.ctx.seq.referral}",
            caller=call.caller,
            dnis=call.dnis,
            arrived_at=self.ctx.now,
            language=call.language,
            callback=True,
            callback_offered=True,
            line_up=False,
        )
        self.ctx.calls[referral.id] = referral
        self.ctx.note_call(referral.id)
        self.lines.join(referral, e.queue, None)
        facts = self.ctx.facts
        if facts is not None:
            q = self.ctx.queues[e.queue]
            facts.append(
                fact.CallbackRequested(
                    at=self.ctx.now,
                    call_id=referral.id,
                    queue=q.name,
                    position=q.waiting.position(referral.priority, referral.seq),
                    digit="",
                    agent_id=agent.id,
                )
            )
