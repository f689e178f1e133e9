"""Callbacks: offered when the wait is long, kept in line, dialled back by an agent.

A flow of the engine (see `engine.core`). A caller whose expected wait
is long is offered a callback; one who accepts keeps their place in line with the
line down (no vendor can take such a call). When an agent answers the offer of a
callback, the caller is dialled back; one not reached is tried again after a delay,
up to the queue's number of attempts, then the callback has failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.context import Context
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.states import CallState

if TYPE_CHECKING:
    from acd.engine.callers import Callers
    from acd.engine.offers import Offers
    from acd.engine.overflow import Overflow
    from acd.engine.queueing import Lines

C = CallState


class Callbacks:
    """Callbacks: the offer, the acceptance, dialling back and retries."""

    callers: Callers
    lines: Lines
    offers: Offers
    overflow: Overflow

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def maybe_offer(self, call: Call, q: QueueRuntime) -> None:
        offer = q.cfg.callback
        if offer is None or call.callback_offered or not call.caller:
            return
        if self.lines.expected_wait(call, q) > offer.when_expected_wait_over_seconds:
            call.callback_offered = True
            self.ctx.play(call, offer.offer_prompt, "info")

    def accept(self, call: Call, confirm: list[str]) -> None:
        call.callback = True
        self.ctx.queues[call.queue].state.callbacks_in_line += 1  # the call is in line (WAITING)
        facts = self.ctx.facts
        if facts is not None:
            q = self.ctx.queues[call.queue]
            facts.append(
                fact.CallbackRequested(
                    at=self.ctx.now,
                    call_id=call.id,
                    queue=q.name,
                    position=q.waiting.position(call.priority, call.seq),
                    digit=q.cfg.callback.digit if q.cfg.callback is not None else "",
                )
            )
        if call.ready_for_overflow:
            # The caller's line goes down: no vendor trunk can be bridged to it now.
            q = self.ctx.queues[call.queue]
            call.ready_for_overflow = False
            call.version += 1  # drops its overflow entry; its place in line is re-indexed
            q.waiting.restep(call.step, call.priority, call.seq, call.id, call.version)
            self.overflow.drain_queue(q)
        for c in self.ctx.counting.queue_counters(call.queue, call.interval):
            c.callbacks_requested += 1
        self.ctx.play(call, confirm, "callback_confirm")

    def dial_back(self, call: Call, agent: Agent) -> None:
        offer = self.ctx.queues[call.queue].cfg.callback
        timeout = offer.ring_timeout_seconds if offer is not None else 30.0
        call.attempts += 1
        self.ctx.next_offer(call)
        self.ctx.emit(
            cmd.DialCallback(
                call_id=call.id,
                agent_id=agent.id,
                number=call.caller,
                endpoint=self.ctx.config.site.dial_out.format(number=call.caller),
                timeout=timeout,
                attempt=call.attempts,
            )
        )
        self.ctx.timers.arm(self.ctx.now + timeout, "dialback", call.id, call.offer_token)
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.CallbackDialled(
                    at=self.ctx.now,
                    call_id=call.id,
                    queue=call.queue,
                    agent_id=agent.id,
                    attempt=call.attempts,
                )
            )

    def on_callback_answered(self, e: ev.CallbackAnswered) -> None:
        call = self.ctx.call(e.call_id, "callback answer")
        if call is None:
            return
        if call.state is not C.DIALING_BACK:
            self.ctx.anomaly("late callback answer")
            return
        self.offers.connect(call)

    def on_callback_failed(self, e: ev.CallbackFailed) -> None:
        call = self.ctx.call(e.call_id, "callback failure")
        if call is None or call.state is not C.DIALING_BACK:
            return
        self.not_reached(call, e.cause)

    def dialback_timed_out(self, call_id: str, token: int) -> None:
        call = self.ctx.calls[call_id]
        self.ctx.emit(cmd.HangupCaller(call_id=call.id, reason="no_answer"))
        self.not_reached(call, "no_answer")

    def not_reached(self, call: Call, cause: str) -> None:
        agent = self.ctx.agents[call.agent_id]
        self.ctx.emit(cmd.HangupAgent(call_id=call.id, agent_id=agent.id))
        agent.call_id = ""
        call.agent_id = ""
        offer = self.ctx.queues[call.queue].cfg.callback
        attempts = offer.max_attempts if offer is not None else 1
        facts = self.ctx.facts
        if facts is not None:
            self._report_not_reached(facts, call, agent, cause, call.attempts >= attempts)
        if call.attempts >= attempts:
            self.callers.finish(call, "callback_failed")
        else:
            self.ctx.move(call, "callback_failed")
            delay = offer.retry_after_seconds if offer is not None else 0.0
            self.ctx.timers.arm(self.ctx.now + delay, "retry", call.id, call.attempts)
        self.offers.offer_cancelled(agent)

    def _report_not_reached(
        self, facts: list[fact.Fact], call: Call, agent: Agent, cause: str, last: bool
    ) -> None:
        now = self.ctx.now
        facts.append(
            fact.CallbackNotReached(
                at=now,
                call_id=call.id,
                queue=call.queue,
                agent_id=agent.id,
                attempt=call.attempts,
                cause=cause,
            )
        )
        if last:
            facts.append(
                fact.CallExitedWithTimeout(
                    at=now,
                    call_id=call.id,
                    queue=call.queue,
                    position=self.ctx.queues[call.queue].waiting.position(call.priority, call.seq),
                )
            )

    def retry_due(self, call_id: str, attempts: int) -> None:
        call = self.ctx.calls[call_id]
        self.ctx.move(call, "retry")
        self.lines.enter(call, self.ctx.queues[call.queue])
