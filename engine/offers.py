"""Offers and conversations: ringing an agent, the answer or the miss, talk, wrap-up.

A part of `Engine` (see `engine.core` for the contract). An offer reserves the agent
and rings them. A missed ring puts the call back in its place (it keeps it) and the
agent rests, or is paused after too many misses in a row. An answer connects the
call (after the worker-protection notice, if the queue plays one); a conversation
ends in wrap-up, after which the logout, break or standby decided meanwhile applies,
else the agent takes the next call. During a call an agent may flag the caller as
abusive (the caller hears a warning, the agent gets a cool-down) or refer a callback
to another queue.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.base import EngineBase
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.states import AgentState, AgentTrigger, CallState

A = AgentState
C = CallState


class Offers(EngineBase):
    """Offers to agents, conversations and wrap-up."""

    def _offer(self, call: Call, agent: Agent, q: QueueRuntime) -> None:
        now = self._now
        self._leave_waiting(call)
        self._move(call, "offer")
        self.seq.offer += 1
        call.offer_token = self.seq.offer
        call.agent_id = agent.id
        self._agent_to(agent, "offer")
        agent.call_id = call.id
        agent.last_offer_seq = self.seq.offer
        self._emit(
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
        self.timers.arm(now + q.cfg.ring_timeout_seconds, "ring", call.id, call.offer_token)
        facts = self.facts
        if facts is not None:
            facts.append(fact.MemberRung(at=now, call_id=call.id, queue=q.name, agent_id=agent.id))
        if call.line_up and q.cfg.pre_connect and call.protection_prompt_id == 0:
            call.protection_prompt_id = self._play(call, q.cfg.pre_connect, "")

    def _offered(self, agent_id: str, call_id: str, what: str) -> tuple[Agent, Call] | None:
        """The agent and call of a live offer between them, or None (a late event)."""
        agent = self._agent(agent_id, what)
        call = self.calls.get(call_id)
        if agent is None:
            return None
        if call is None or call.agent_id != agent.id or agent.call_id != call.id:
            self._anomaly(f"late {what}")
            return None
        return agent, call

    def _on_agent_answered(self, e: ev.AgentAnswered) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent answer")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.OFFERED or agent.state is not A.RESERVED:
            self._anomaly("late agent answer")
            return
        agent.missed = 0
        facts = self.facts
        if facts is not None:
            facts.append(
                fact.MemberAnswered(
                    at=self._now, call_id=call.id, queue=call.queue, agent_id=agent.id
                )
            )
        self._agent_to(agent, "answered")
        if call.callback and not call.line_up:
            self._move(call, "answered_callback")
            self._dial_back(call, agent)
            return
        if call.prompt_kind == "callback_confirm":
            # Still on the line, hearing the confirmation: put them straight through.
            self._emit(cmd.StopPlayback(call_id=call.id))
            call.prompt_id, call.prompt_kind = 0, ""
        self._move(call, "answered")
        if call.protection_prompt_id == 0 or call.protection_done:
            self._connect(call)

    def _connect(self, call: Call) -> None:
        self._move(call, "connect")
        call.connected_at = self._now
        self._emit(cmd.Connect(call_id=call.id, agent_id=call.agent_id))
        facts = self.facts
        if facts is not None:
            facts.append(
                fact.CallConnected(
                    at=self._now, call_id=call.id, queue=call.queue, agent_id=call.agent_id
                )
            )
        agent = self.agents[call.agent_id]
        for p in self.metrics.pool_counters(agent.pool, call.interval):
            p.answered += 1
        self._record_outcome(call, "answered")

    def _on_agent_missed(self, e: ev.AgentMissed) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent miss")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.OFFERED:
            self._anomaly("late agent miss")
            return
        self._missed(call, agent)

    def _ring_timed_out(self, call_id: str, token: int) -> None:
        call = self.calls[call_id]
        self._emit(cmd.CancelRing(call_id=call.id, agent_id=call.agent_id))
        self._missed(call, self.agents[call.agent_id], timed_out=True)

    def _missed(self, call: Call, agent: Agent, timed_out: bool = False) -> None:
        """A missed ring: the call goes back to its place; the agent rests, or is
        paused with reason "missed" after `missed_ring.pause_after` misses in a row
        (the count then starts again: one miss after unpausing is a rest, not a pause).
        A logout or pause the agent asked for while ringing is applied instead.
        `timed_out`: the engine's ring timer ended it (not the phone or the PBX)."""
        facts = self.facts
        if facts is not None:
            facts.append(
                fact.RingNoAnswer(
                    at=self._now,
                    call_id=call.id,
                    queue=call.queue,
                    timed_out=timed_out,
                    agent_id=agent.id,
                )
            )
        agent.missed += 1
        agent.call_id = ""
        rules = self.config.missed_ring
        if agent.missed >= rules.pause_after:
            agent.missed = 0
            self._agent_to(agent, "missed")
            if not self._apply_pending(agent):
                self._agent_to(agent, "pause", "missed")
        else:
            self._start_wrap(agent, "missed", rules.rest_seconds, "missed")
        call.agent_id = ""
        self._move(call, "missed")
        self._enter_waiting(call, self.queues[call.queue])

    def _on_agent_hung_up(self, e: ev.AgentHungUp) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent hang-up")
        if pair is None:
            return
        agent, call = pair
        facts = self.facts
        if call.state is C.CONNECTED:
            if facts is not None:
                facts.append(
                    fact.CallCompleted(
                        at=self._now,
                        call_id=call.id,
                        queue=call.queue,
                        by_caller=False,
                        agent_id=agent.id,
                    )
                )
            self._emit(cmd.HangupCaller(call_id=call.id))
            self._end_connected(call)
        elif call.state in (C.CONNECTING, C.DIALING_BACK):
            # The agent left before the caller was put through: not the caller's
            # fault, so the call goes back to its place in line.
            if facts is not None:
                facts.append(
                    fact.AgentDumped(
                        at=self._now, call_id=call.id, queue=call.queue, agent_id=agent.id
                    )
                )
            if call.state is C.DIALING_BACK:
                self._emit(cmd.HangupCaller(call_id=call.id))
            self._move(call, "agent_left")
            call.agent_id = ""
            self._end_agent_call(agent, call)
            self._enter_waiting(call, self.queues[call.queue])
        elif call.state is C.OFFERED:
            self._missed(call, agent)
        else:
            self._anomaly("late agent hang-up")

    def _end_connected(self, call: Call) -> None:
        """A connected call is over: talk time is counted, the agent wraps up."""
        agent = self.agents[call.agent_id]
        talk = self._now - call.connected_at
        for c in self.metrics.queue_counters(call.queue, call.interval):
            c.talk_seconds += talk
        for p in self.metrics.pool_counters(agent.pool, call.interval):
            p.talk_seconds += talk
        self._finish(call, None)
        self._end_agent_call(agent, call)

    def _end_agent_call(self, agent: Agent, call: Call) -> None:
        """The agent's part of a call is over: after-call work for the queue's time."""
        agent.call_id = ""
        agent.wrap_queue = call.queue
        agent.wrap_interval = call.interval
        agent.last_call_end = self._now
        agent.handled_seconds += self._now - agent.state_since
        self._start_wrap(agent, "call_ended", self.queues[call.queue].cfg.wrap_up_seconds, "acw")

    def _start_wrap(
        self, agent: Agent, trigger: AgentTrigger, seconds: float, reason: str
    ) -> None:
        self._agent_to(agent, trigger, reason)
        agent.wrap_token += 1
        self.timers.arm(self._now + seconds, "wrap", agent.id, agent.wrap_token)

    def _wrap_timed_out(self, agent_id: str, token: int) -> None:
        self._after_wrap(self.agents[agent_id], "wrap_up_done")

    def _after_wrap(self, agent: Agent, trigger: AgentTrigger) -> None:
        """Wrap-up is over: apply a pending logout or pause, else back to work."""
        self._close_wrap(agent)
        if agent.cool_down_due > 0:
            # Worker protection: after the after-call work of an abusive call, a
            # cool-down that is neither handling time nor skippable by `AgentReady`.
            seconds, agent.cool_down_due = agent.cool_down_due, 0.0
            self._start_wrap(agent, "cool_down", seconds, "cool-down")
            return
        if not self._apply_pending(agent):
            # A pool shrunk while the agent was busy left a pending "standby" pause,
            # applied by `_apply_pending`; so no pool-size check is needed on this hot path.
            self._agent_to(agent, trigger)
            self._serve_agent(agent)

    def _close_wrap(self, agent: Agent) -> None:
        """Count the after-call work that is ending as handling of the call (AHT,
        handled); a cool-down is not handling. Called before an agent leaves wrap-up by any way: the
        timer, `AgentReady`, a pause or a logout; does nothing otherwise."""
        if agent.state is A.WRAP_UP and agent.reason == "acw" and agent.wrap_queue:
            wrap = self._now - agent.state_since
            interval = agent.wrap_interval
            for c in self.metrics.queue_counters(agent.wrap_queue, interval):
                c.wrap_up_seconds += wrap
                c.handled += 1
            for p in self.metrics.pool_counters(agent.pool, interval):
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
            self._logout(agent)
        elif standby:
            self._close_wrap(agent)
            self._agent_to(agent, "pause", "standby")
        elif pending == "pause":
            self._agent_to(agent, "pause", agent.pending_reason)
        else:
            return False
        return True

    def _offer_cancelled(self, agent: Agent) -> None:
        """The agent's offer ended with no conversation (the caller gave up while the
        phone rang, a callback went unanswered): back to work, or to the pause or
        logout asked for meanwhile."""
        self._agent_to(agent, "cancelled")
        if not self._apply_pending(agent):
            self._serve_agent(agent)

    def _on_abusive(self, e: ev.AgentFlaggedAbusive) -> None:
        pair = self._offered(e.agent_id, e.call_id, "abusive flag")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.CONNECTED:
            self._anomaly("abusive flag outside a conversation")
            return
        self._move(call, "abusive")
        facts = self.facts
        if facts is not None:
            facts.append(
                fact.CallCompleted(
                    at=self._now,
                    call_id=call.id,
                    queue=call.queue,
                    by_caller=False,
                    agent_id=agent.id,
                )
            )
        self._emit(cmd.HangupAgent(call_id=call.id, agent_id=agent.id))
        self._play(call, self.config.abusive.warning, "warning")
        talk = self._now - call.connected_at
        for c in self.metrics.queue_counters(call.queue, call.interval):
            c.talk_seconds += talk
        for p in self.metrics.pool_counters(agent.pool, call.interval):
            p.talk_seconds += talk
        agent.cool_down_due = self.config.abusive.cool_down_seconds
        self._end_agent_call(agent, call)

    def _on_referred(self, e: ev.AgentReferredCallback) -> None:
        pair = self._offered(e.agent_id, e.call_id, "referral")
        if pair is None:
            return
        agent, call = pair
        if e.queue not in self.queues or call.state is not C.CONNECTED or not call.caller:
            self._anomaly("referral refused")
            return
        # Ids are never reused: a timer of an earlier, ended referral must not
        # find a new call under its id.
        self.seq.referral += 1
        referral = Call(
            id=f"{call.id}/rc{self.seq.referral}",
            caller=call.caller,
            dnis=call.dnis,
            arrived_at=self._now,
            language=call.language,
            callback=True,
            callback_offered=True,
            line_up=False,
        )
        self.calls[referral.id] = referral
        if self.tracking:
            self.changed_calls.add(referral.id)
        self._join(referral, e.queue, None)
        facts = self.facts
        if facts is not None:
            q = self.queues[e.queue]
            facts.append(
                fact.CallbackRequested(
                    at=self._now,
                    call_id=referral.id,
                    queue=q.name,
                    position=q.waiting.position(referral.priority, referral.seq),
                    digit="",
                    agent_id=agent.id,
                )
            )
